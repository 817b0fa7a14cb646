"""Optimisers and the warmup-cosine learning-rate schedule used for pretraining.

LARS (You et al. 2017, eq. 6) with linear warmup and cosine annealing is the SimCLR /
solo-learn recipe; SGD and Adam (003 SparseHead uses Adam) are available through the same
config block. The LARS update is solo-learn's (``solo/utils/lars.py``, used by every CIFAR recipe
in ``scripts/pretrain/cifar/*.yaml`` with ``eta: 0.02, clip_lr: True, exclude_bias_n_norm:
True``), and the learning rate is scaled linearly with the batch size as solo-learn does
(``solo/args/pretrain.py``: lr × batch_size / 256, the 256 being ``lr_batch_size`` here).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import torch
from torch import nn

OPTIMIZERS = ("lars", "sgd", "adam")
STATIC_LR = "static_lr"  # param-group flag: lr fixed at the base lr


@dataclass(frozen=True)
class OptimSpec:
    """An optimiser block of the config (``lr`` is given for batches of ``lr_batch_size``)."""

    name: str
    lr: float
    weight_decay: float
    momentum: float
    warmup_epochs: float
    lr_batch_size: int
    exclude_bias_n_norm: bool
    eta: float = 0.0
    clip_lr: bool = False

    def scaled_lr(self, batch_size: int) -> float:
        """The base learning rate at ``batch_size``: lr × batch_size / lr_batch_size."""
        return self.lr * batch_size / self.lr_batch_size


class LARS(torch.optim.Optimizer):
    """SGD with layer-wise adaptive rate scaling (You et al. 2017), as solo-learn implements it.

    Per parameter tensor p with gradient g, when LARS applies (every tensor, or only those with
    ``ndim > 1`` when ``exclude_bias_n_norm``; p and g non-zero):

        local_lr = eta · ‖p‖ / (‖g‖ + wd · ‖p‖ + eps)          (LARS eq. 6, trust ratio)
        local_lr = min(local_lr / lr, 1)                        if clip_lr
        d = local_lr · (g + wd · p)

    otherwise d = g (excluded tensors get neither scaling nor weight decay). Then heavy-ball
    momentum v ← μ v + d (v₀ = d) and p ← p − lr · v. With ``clip_lr`` a step moves p by at most
    lr · ‖g + wd·p‖ and by about eta · ‖p‖ when the trust ratio binds.
    """

    def __init__(
        self,
        params: Iterable[nn.Parameter] | Iterable[dict],
        lr: float,
        momentum: float,
        weight_decay: float,
        eta: float,
        clip_lr: bool,
        exclude_bias_n_norm: bool,
        eps: float = 1e-8,  # only guards the division, as in solo-learn and LARS' reference code
        foreach: bool = True,
    ) -> None:
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "weight_decay": weight_decay,
            "eta": eta,
            "clip_lr": clip_lr,
            "exclude_bias_n_norm": exclude_bias_n_norm,
            "eps": eps,
            "foreach": foreach,
        }
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure=None):  # noqa: ANN001, ANN201 (torch's Optimizer signature)
        """One update of every parameter with a gradient. ``foreach`` (a group option, as in
        torch's optimisers): the group's tensors in multi-tensor operations — on a GPU one
        launch per operation for the norms, momentum and update (the per-tensor trust-ratio
        products may still launch one kernel per tensor) instead of ~17 per tensor, which
        bounded small models' steps (1.36× in-loop on an H100, docs/results/gpu.md); off: tensor by
        tensor (the same arithmetic, tested bit-identical on the CPU)."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            params = [p for p in group["params"] if p.grad is not None]
            if not params:
                continue
            if group["foreach"]:
                directions = _directions(params, group)
            else:
                directions = [_directions([p], group)[0] for p in params]
            if group["momentum"] != 0:
                directions = self._momentum(params, directions, group["momentum"])
            torch._foreach_add_(params, directions, alpha=-group["lr"])
        return loss

    def _momentum(
        self, params: list[torch.Tensor], directions: list[torch.Tensor], momentum: float
    ) -> list[torch.Tensor]:
        """Heavy-ball buffers v ← μ v + d, updated in place and returned; a tensor's first
        direction starts its buffer (v₀ = d), also when its first gradient comes later than
        the others' (SwAV's prototypes are frozen, gradient None, for the first steps)."""
        buffers, updated = [], []
        for p, d in zip(params, directions, strict=True):
            state = self.state[p]
            if "momentum_buffer" in state:
                buffers.append(state["momentum_buffer"])
                updated.append(d)
            else:
                state["momentum_buffer"] = d.clone()
        if buffers:
            torch._foreach_mul_(buffers, momentum)
            torch._foreach_add_(buffers, updated)
        return [self.state[p]["momentum_buffer"] for p in params]


def _directions(params: list[torch.Tensor], group: dict) -> list[torch.Tensor]:
    """Every tensor's gradient with weight decay, scaled by its clipped trust ratio where LARS
    applies, the group's tensors at once.

    Computed on the device without a host sync: where ‖p‖ or ‖g‖ is zero the ratio is
    replaced by 1 and weight decay by 0, which leaves d = g as in the reference code."""
    grads = [p.grad for p in params]
    adapted = [
        i for i, p in enumerate(params) if not (group["exclude_bias_n_norm"] and p.ndim == 1)
    ]
    if not adapted:
        return grads
    ps, gs = [params[i] for i in adapted], [grads[i] for i in adapted]
    p_norm = torch.stack(torch._foreach_norm(ps))
    g_norm = torch.stack(torch._foreach_norm(gs))
    wd = group["weight_decay"]
    ratio = group["eta"] * p_norm / (g_norm + wd * p_norm + group["eps"])
    if group["clip_lr"]:
        ratio = torch.clamp(ratio / group["lr"], max=1.0)
    applies = (p_norm != 0) & (g_norm != 0)
    ratio = torch.where(applies, ratio, 1.0)
    decay = torch.where(applies, wd, 0.0)
    scaled = torch._foreach_mul(ps, list(decay.unbind()))  # d = (g + decay · p) · ratio
    torch._foreach_add_(scaled, gs)
    torch._foreach_mul_(scaled, list(ratio.unbind()))
    out = list(grads)
    for i, d in zip(adapted, scaled, strict=True):
        out[i] = d
    return out


def _is_bias_or_norm(param: nn.Parameter) -> bool:
    """Biases and normalisation weights: the tensors solo-learn's ``exclude_bias_n_norm`` means."""
    return param.ndim <= 1


def _param_groups(model: nn.Module, spec: OptimSpec) -> list[dict]:
    """One group with the weight decay, or two when biases/norms are excluded from it."""
    params = [p for p in model.parameters() if p.requires_grad]
    if not spec.exclude_bias_n_norm or spec.name == "lars":  # LARS excludes them itself
        return [{"params": params, "weight_decay": spec.weight_decay}]
    decay = [p for p in params if not _is_bias_or_norm(p)]
    no_decay = [p for p in params if _is_bias_or_norm(p)]
    return [
        {"params": decay, "weight_decay": spec.weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ]


def _split_static(groups: list[dict], static_lr: Iterable[nn.Parameter]) -> list[dict]:
    """Each group split into its scheduled part and its ``static_lr`` part (solo-learn's
    ``static_lr`` groups: the lr stays at the base lr); empty parts are dropped."""
    static = {id(p) for p in static_lr}
    split = []
    for group in groups:
        for is_static in (False, True):
            params = [p for p in group["params"] if (id(p) in static) == is_static]
            if params:
                split.append(group | {"params": params, STATIC_LR: is_static})
    return split


def build_optimizer(
    model: nn.Module,
    spec: OptimSpec,
    batch_size: int,
    static_lr: Iterable[nn.Parameter] = (),
) -> torch.optim.Optimizer:
    """Optimiser over ``model``'s trainable parameters, as named by ``spec.name``, at the
    learning rate scaled to ``batch_size``; groups of ``static_lr`` parameters are marked
    ``static_lr`` (see :func:`schedule_lr`)."""
    groups = _split_static(_param_groups(model, spec), static_lr)
    lr = spec.scaled_lr(batch_size)
    if spec.name == "lars":
        return LARS(
            groups,
            lr=lr,
            momentum=spec.momentum,
            weight_decay=spec.weight_decay,
            eta=spec.eta,
            clip_lr=spec.clip_lr,
            exclude_bias_n_norm=spec.exclude_bias_n_norm,
        )
    if spec.name == "sgd":
        return torch.optim.SGD(groups, lr=lr, momentum=spec.momentum)
    if spec.name == "adam":
        return torch.optim.Adam(groups, lr=lr)
    raise ValueError(f"optimizer.name: unknown {spec.name!r}; allowed {list(OPTIMIZERS)}")


def schedule_lr(optimizer: torch.optim.Optimizer, base_lr: float, multiplier: float) -> None:
    """Set every scheduled group's lr to ``base_lr × multiplier``; ``static_lr`` groups keep
    ``base_lr`` (solo-learn, ``solo/methods/base.py``: their lr is excluded from the scheduler)."""
    for group in optimizer.param_groups:
        group["lr"] = base_lr if group[STATIC_LR] else base_lr * multiplier


def warmup_cosine(step: int, total_steps: int, warmup_steps: int) -> float:
    """Multiplier of the base learning rate: linear warmup, then cosine decay to 0."""
    if warmup_steps > 0 and step < warmup_steps:
        return (step + 1) / warmup_steps
    span = max(1, total_steps - warmup_steps)
    return 0.5 * (1.0 + math.cos(math.pi * min(1.0, (step - warmup_steps) / span)))
