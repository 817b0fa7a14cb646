"""VICReg's criterion equals lightly's VICRegLoss (which it replaces to drop a host sync)."""

from __future__ import annotations

import torch
from lightly.loss import VICRegLoss

from sslbench.losses.vicreg import VICRegCriterion


def test_vicreg_criterion_equals_lightly_vicreg_loss():
    generator = torch.Generator().manual_seed(0)
    z_a, z_b = torch.randn(2, 32, 24, generator=generator).unbind(0)
    z_b = z_b + z_a  # correlated views, so every term is non-trivial
    for weights in ((25.0, 25.0, 1.0), (1.0, 5.0, 0.5)):
        ours = VICRegCriterion(*weights)(z_a, z_b)
        lightly = VICRegLoss(*weights)(z_a, z_b)
        torch.testing.assert_close(ours, lightly)


def test_vicreg_criterion_gradients_equal_lightly():
    z = torch.randn(2, 16, 8, generator=torch.Generator().manual_seed(1), requires_grad=True)
    weights = (25.0, 25.0, 1.0)  # the paper's λ, μ, ν
    (ours,) = torch.autograd.grad(VICRegCriterion(*weights)(z[0], z[1]), z)
    (lightly,) = torch.autograd.grad(VICRegLoss(*weights)(z[0], z[1]), z)
    torch.testing.assert_close(ours, lightly)
