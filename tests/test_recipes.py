"""Every method builds and takes a training step from its recipe block in config/config.yaml."""

from __future__ import annotations

import pytest
import torch

from sslbench.data.augment import ViewAugment, view_specs
from sslbench.methods import METHODS, build_method
from sslbench.models.resnet import BackboneSpec, build_backbone
from sslbench.recipes import method_optimizer, method_params, method_views
from sslbench.training.optim import OptimSpec, build_optimizer


@pytest.mark.parametrize("name", sorted(METHODS))
def test_method_trains_a_step_from_its_recipe(name, default_config):
    recipe = default_config["methods"][name]
    assert {"optimizer", "augment"} <= set(recipe), f"methods.{name} cites no recipe"
    spec = OptimSpec(**method_optimizer(default_config, name))
    assert spec.name == recipe["optimizer"]["name"]
    assert spec.warmup_epochs == default_config["pretrain"]["optimizer"]["warmup_epochs"]
    views = view_specs(method_views(default_config, name))
    assert all(v.mean == tuple(default_config["augment"]["mean"]) for v in views)
    torch.manual_seed(0)
    model = build_method(
        name,
        build_backbone(BackboneSpec("resnet18", 4, "cifar")),
        method_params(default_config, name),
    )
    optimizer = build_optimizer(model, spec, 16)
    images = torch.randint(0, 256, (16, 3, 16, 16), dtype=torch.uint8)
    augment, g = ViewAugment(views, 16), torch.Generator().manual_seed(0)
    before = [p.detach().clone() for p in model.backbone.parameters()]
    model.loss([augment(images, v, g) for v in range(model.views)]).backward()
    optimizer.step()
    assert any(
        not torch.equal(a, b) for a, b in zip(before, model.backbone.parameters(), strict=True)
    )


def test_asymmetric_recipes_give_each_view_its_own_augmentation(default_config):
    views = method_views(default_config, "byol")
    assert [v["solarize_p"] for v in views] == [0.0, 0.2]
    assert method_views(default_config, "simclr")[0]["brightness"] == 0.8
