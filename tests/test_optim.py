"""LARS as solo-learn's CIFAR recipes run it, checked against updates computed by hand."""

from __future__ import annotations

import dataclasses

import pytest
import torch
from torch import nn

from sslbench.methods.simsiam import SimSiam, SimSiamSpec
from sslbench.models.resnet import BackboneSpec, build_backbone
from sslbench.training.optim import LARS, OptimSpec, build_optimizer, schedule_lr

RECIPE = OptimSpec(
    "lars", 0.4, 1e-4, 0.9, 0.0, lr_batch_size=256, exclude_bias_n_norm=True, eta=0.02, clip_lr=True
)


def _layer(weight: list[list[float]], bias: list[float], grad_w, grad_b) -> nn.Linear:
    layer = nn.Linear(2, 2)
    with torch.no_grad():
        layer.weight.copy_(torch.tensor(weight))
        layer.bias.copy_(torch.tensor(bias))
    layer.weight.grad = torch.tensor(grad_w)
    layer.bias.grad = torch.tensor(grad_b)
    return layer


def test_trust_ratio_scales_the_decayed_gradient():
    # ‖w‖ = 5, ‖g‖ = 10, wd 0.1: ratio = 0.02 · 5 / (10 + 0.5) = 0.00952…; no clipping.
    layer = _layer([[3.0, 0.0], [0.0, 4.0]], [1.0, 1.0], [[6.0, 0.0], [0.0, 8.0]], [1.0, 2.0])
    w0 = layer.weight.detach().clone()
    LARS(layer.parameters(), 1.0, 0.0, 0.1, 0.02, False, True).step()
    ratio = 0.02 * 5.0 / (10.0 + 0.1 * 5.0 + 1e-8)
    expected = w0 - 1.0 * ratio * (torch.tensor([[6.0, 0.0], [0.0, 8.0]]) + 0.1 * w0)
    assert torch.allclose(layer.weight, expected, atol=1e-7)
    # the bias is excluded: plain gradient step, no weight decay, no scaling
    assert torch.allclose(layer.bias, torch.tensor([0.0, -1.0]))


def test_clip_lr_caps_the_local_rate_at_one():
    # ratio / lr = (0.02 · 5 / 0.1) / 0.01 = 100 > 1: the step is the plain SGD step at lr.
    layer = _layer([[3.0, 0.0], [0.0, 4.0]], [0.0, 0.0], [[0.06, 0.0], [0.0, 0.08]], [0.0, 0.0])
    w0 = layer.weight.detach().clone()
    LARS(layer.parameters(), 0.01, 0.0, 0.0, 0.02, True, True).step()
    assert torch.allclose(layer.weight, w0 - 0.01 * torch.tensor([[0.06, 0.0], [0.0, 0.08]]))
    # and when the trust ratio binds (ratio / lr < 1) clipping changes nothing
    layer = _layer([[3.0, 0.0], [0.0, 4.0]], [0.0, 0.0], [[6.0, 0.0], [0.0, 8.0]], [0.0, 0.0])
    LARS(layer.parameters(), 1.0, 0.0, 0.0, 0.02, True, True).step()
    assert torch.allclose(layer.weight, w0 - 0.01 * torch.tensor([[6.0, 0.0], [0.0, 8.0]]))


def test_without_exclusion_biases_are_adapted_and_decayed():
    layer = _layer([[3.0, 0.0], [0.0, 4.0]], [3.0, 4.0], [[6.0, 0.0], [0.0, 8.0]], [6.0, 8.0])
    LARS(layer.parameters(), 1.0, 0.0, 0.1, 0.02, False, False).step()
    ratio = 0.02 * 5.0 / (10.0 + 0.5 + 1e-8)
    expected = torch.tensor([3.0, 4.0]) - ratio * torch.tensor([6.3, 8.4])
    assert torch.allclose(layer.bias, expected, atol=1e-7)


def test_zero_norm_tensors_take_the_plain_gradient():
    layer = _layer([[0.0, 0.0], [0.0, 0.0]], [0.0, 0.0], [[1.0, 2.0], [3.0, 4.0]], [0.0, 0.0])
    LARS(layer.parameters(), 0.5, 0.0, 0.1, 0.02, True, True).step()
    assert torch.allclose(layer.weight, -0.5 * torch.tensor([[1.0, 2.0], [3.0, 4.0]]))


def test_momentum_accumulates_the_scaled_direction():
    layer = _layer([[3.0, 0.0], [0.0, 4.0]], [0.0, 0.0], [[6.0, 0.0], [0.0, 8.0]], [0.0, 0.0])
    optimizer = LARS(layer.parameters(), 1.0, 0.9, 0.0, 0.02, False, True)
    optimizer.step()
    w1 = layer.weight.detach().clone()
    first = 0.02 * 5.0 / 10.0 * torch.tensor([[6.0, 0.0], [0.0, 8.0]])
    layer.weight.grad = torch.tensor([[6.0, 0.0], [0.0, 8.0]])
    optimizer.step()
    second = 0.02 * w1.norm() / 10.0 * torch.tensor([[6.0, 0.0], [0.0, 8.0]])
    assert torch.allclose(layer.weight, w1 - (0.9 * first + second), atol=1e-6)


def test_learning_rate_scales_with_batch_size_as_solo_learn():
    assert RECIPE.scaled_lr(256) == pytest.approx(0.4)
    assert RECIPE.scaled_lr(512) == pytest.approx(0.8)
    assert RECIPE.scaled_lr(64) == pytest.approx(0.1)
    optimizer = build_optimizer(nn.Linear(2, 2), RECIPE, 128)
    assert optimizer.param_groups[0]["lr"] == pytest.approx(0.2)


def test_sgd_decays_biases_unless_excluded():
    sgd = dataclasses.replace(RECIPE, name="sgd", exclude_bias_n_norm=False)
    groups = build_optimizer(nn.Linear(2, 2), sgd, 256).param_groups
    assert [g["weight_decay"] for g in groups] == [1e-4]
    excluded = dataclasses.replace(sgd, exclude_bias_n_norm=True)
    groups = build_optimizer(nn.Linear(2, 2), excluded, 256).param_groups
    assert [(len(g["params"]), g["weight_decay"]) for g in groups] == [(1, 1e-4), (1, 0.0)]


def test_recipe_moves_weights_by_a_share_of_their_norm():
    # The diagnosis: trust 0.001 at lr 0.4 moved a matrix by ~4e-4 of its norm per step;
    # the recipe's eta 0.02 with clipping moves it by ~eta = 2 % when the ratio binds.
    torch.manual_seed(0)
    layer = nn.Linear(64, 64)
    layer(torch.randn(32, 64)).pow(2).sum().backward()
    w0 = layer.weight.detach().clone()
    build_optimizer(layer, RECIPE, 256).step()
    moved = (layer.weight - w0).norm() / w0.norm()
    assert 0.01 < moved <= 0.0201


def test_static_lr_groups_keep_the_base_lr_while_the_rest_follow_the_schedule():
    """SimSiam's predictor (solo-learn's ``static_lr`` group) stays at the base lr."""
    model = SimSiam(build_backbone(BackboneSpec("resnet18", 4, "cifar")), SimSiamSpec(16, 16, 8))
    static = model.static_lr_parameters()
    assert {id(p) for p in static} == {id(p) for p in model.predictor.parameters()}
    optimizer = build_optimizer(model, RECIPE, 512, static)
    schedule_lr(optimizer, base_lr=0.8, multiplier=0.25)
    lrs = {id(p): g["lr"] for g in optimizer.param_groups for p in g["params"]}
    assert all(lrs[id(p)] == 0.8 for p in model.predictor.parameters())
    assert all(lrs[id(p)] == 0.2 for p in model.backbone.parameters())
    assert len(lrs) == sum(1 for p in model.parameters() if p.requires_grad)


@pytest.mark.parametrize("clip_lr", [False, True])
def test_multi_tensor_step_equals_the_step_tensor_by_tensor(clip_lr):
    """``foreach`` (the default) and tensor by tensor give bit-identical weights over steps with
    momentum, on a backbone whose biases/norms are excluded and one zero-gradient tensor."""
    models = []
    for foreach in (True, False):
        torch.manual_seed(0)
        model = build_backbone(BackboneSpec("resnet18", 4, "cifar"))
        optimizer = LARS(model.parameters(), 0.8, 0.9, 1e-4, 0.02, clip_lr, True, foreach=foreach)
        for step in range(3):
            torch.manual_seed(step)
            model(torch.randn(4, 3, 8, 8)).pow(2).sum().backward()
            next(model.parameters()).grad.zero_()
            optimizer.step()
            optimizer.zero_grad()
        models.append(model)
    for ours, reference in zip(models[0].parameters(), models[1].parameters(), strict=True):
        assert torch.equal(ours, reference)


@pytest.mark.parametrize("foreach", [True, False])
def test_a_tensor_whose_first_gradient_comes_later_keeps_the_others_momentum(foreach):
    """SwAV's prototypes have no gradient for the first steps: when theirs arrives, every other
    tensor's momentum carries on (v ← μ v + d) and theirs starts at its direction."""
    early, late = nn.Parameter(torch.zeros(2)), nn.Parameter(torch.zeros(2))
    optimizer = LARS([early, late], 1.0, 0.9, 0.0, 0.02, False, True, foreach=foreach)
    early.grad = torch.tensor([1.0, 2.0])  # 1-D and excluded: the direction is the gradient
    optimizer.step()
    early.grad, late.grad = torch.tensor([3.0, 4.0]), torch.tensor([5.0, 6.0])
    optimizer.step()
    assert torch.equal(
        early,
        -torch.tensor([1.0, 2.0]) - (0.9 * torch.tensor([1.0, 2.0]) + torch.tensor([3.0, 4.0])),
    )
    assert torch.equal(late, -torch.tensor([5.0, 6.0]))
