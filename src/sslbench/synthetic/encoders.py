"""Encoders f of 002 §4.1: linear (bias-free, 002 Assum. 1) and a 7-layer Leaky-ReLU MLP.

002 §4.1: "The encoder f is also modeled as an MLP with same input, intermediate and output
dimensionality, optionally, with Leaky ReLU non-linearities" and "nonlinear encoders (7-layer
MLP)"; Zimmermann et al.'s encoder, which 002 follows, has hidden widths [10d, 50d, 50d, 50d,
50d, 10d]. The default here is 7 linear layers with hidden width 5d: a d-wide MLP
(``hidden_width=d``) loses the style latents gradually over all layers at our training length,
whereas with 5d the intermediate layers keep them and the collapse sits in the last layer, as in
002 Fig. 1. Measured on the box, d = 10, d_c = 1, seed 0 (style adjusted R² after layers 1…7):
d-wide (3,000 steps, lr 1e-3) 0.69, 0.69, 0.54, 0.32, 0.16, 0.14, 0.14; 5d-wide (the defaults)
0.82, 0.81, 0.77, 0.76, 0.71, 0.66, 0.34.

:meth:`Encoder.activations` returns the input and every layer's output (after the nonlinearity
for hidden layers, the raw linear output for the last one) for the layer-wise readouts of
002 Fig. 1 (middle, right).
"""

from __future__ import annotations

import torch
from torch import nn

#: Leaky-ReLU slope of the MLP encoder (the same as g's; 002 does not give one).
DEFAULT_ENCODER_SLOPE = 0.2
#: Linear layers of the nonlinear encoder (002 §4.1).
DEFAULT_ENCODER_LAYERS = 7
#: Hidden width of the MLP encoder in units of d (see the module docstring).
DEFAULT_HIDDEN_WIDTH_FACTOR = 5


class Encoder(nn.Module):
    """A stack of linear layers with Leaky ReLU between them (none after the last)."""

    def __init__(self, widths: list[int], bias: bool, slope: float = DEFAULT_ENCODER_SLOPE):
        super().__init__()
        if len(widths) < 2:
            raise ValueError(f"an encoder needs input and output widths, got {widths}")
        self.layers = nn.ModuleList(
            nn.Linear(a, b, bias=bias) for a, b in zip(widths[:-1], widths[1:], strict=True)
        )
        self.slope = slope

    def activations(self, x: torch.Tensor) -> list[torch.Tensor]:
        """[x, h_1, …, h_L]: the input and the output of every layer (h_L = f(x))."""
        outs = [x]
        h = x
        for i, layer in enumerate(self.layers):
            h = layer(h)
            if i < len(self.layers) - 1:
                h = nn.functional.leaky_relu(h, self.slope)
            outs.append(h)
        return outs

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.activations(x)[-1]

    def weight_matrix(self) -> torch.Tensor:
        """W of a one-layer (linear) encoder, f(x) = W x."""
        if len(self.layers) != 1:
            raise ValueError("only a one-layer encoder is a matrix")
        return self.layers[0].weight.detach()


def linear_encoder(dim: int) -> Encoder:
    """f(x) = W x, W ∈ R^{d×d}, no bias (002 §4.1, linear DGP)."""
    return Encoder([dim, dim], bias=False)


def mlp_encoder(
    dim: int,
    layers: int = DEFAULT_ENCODER_LAYERS,
    hidden_width: int | None = None,
    slope: float = DEFAULT_ENCODER_SLOPE,
) -> Encoder:
    """``layers`` linear layers d → w → … → w → d with Leaky ReLU and bias (002 §4.1);
    w = ``hidden_width``, by default 5d."""
    if layers < 1:
        raise ValueError(f"the encoder needs ≥ 1 layer, got {layers}")
    width = DEFAULT_HIDDEN_WIDTH_FACTOR * dim if hidden_width is None else hidden_width
    return Encoder([dim] + [width] * (layers - 1) + [dim], bias=True, slope=slope)
