"""Target networks (MoCo's key encoder, BYOL's target, DINO's teacher): no gradient, and an EMA
that keeps the recipe's decay per epoch."""

import math

import pytest
import torch
from tiny_methods import (
    TARGET_NETWORKS,
    assert_close,
    random_views,
    tiny_model,
)

from sslbench.training.optim import OptimSpec, build_optimizer

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.mark.parametrize("recipe_steps, run_steps", [(19.0, 19), (40.0, 4)])
@pytest.mark.parametrize("name", sorted(TARGET_NETWORKS))
def test_target_network_gets_no_gradient_and_follows_the_ema(name, recipe_steps, run_steps):
    """τ follows the cosine schedule; a recipe's τ given for ``recipe_steps`` steps per epoch is
    applied as τ^(recipe_steps / run_steps) per step (the recipe's decay per epoch)."""
    model = tiny_model(name, recipe_steps_per_epoch=recipe_steps)
    model.on_train_start(run_steps)
    target = getattr(model, TARGET_NETWORKS[name])
    optimizer = build_optimizer(model, OptimSpec("sgd", 0.5, 0.0, 0.0, 0.0, 32, False), 32)
    optimised = {id(p) for group in optimizer.param_groups for p in group["params"]}
    assert not optimised & {id(p) for p in target.parameters()}
    for online, copy in zip([model.backbone, model.projector], target.copies, strict=True):
        for a, b in zip(online.parameters(), copy.parameters(), strict=True):
            assert torch.equal(a, b)  # the target starts as a copy of the online network

    model.loss(random_views()).backward()
    assert all(p.grad is None for p in target.parameters())
    assert all(p.grad is not None for p in model.backbone.parameters())
    optimizer.step()
    before = [p.clone() for p in target.parameters()]
    online = [p.clone() for m in (model.backbone, model.projector) for p in m.parameters()]
    assert any(not torch.equal(a, b) for a, b in zip(before, online, strict=True))

    spec = model.spec
    model.on_step_end(0.3)
    tau = (
        spec.final_momentum
        - (spec.final_momentum - spec.base_momentum) * (math.cos(math.pi * 0.3) + 1) / 2
    ) ** (recipe_steps / run_steps)
    for new, old, o in zip(target.parameters(), before, online, strict=True):
        assert_close(new, tau * old + (1 - tau) * o)
