import pytest
import torch

from sslbench.models.resnet import BackboneSpec, build_backbone


@pytest.mark.parametrize(
    ("name", "width", "dim"), [("resnet18", 64, 512), ("resnet18", 8, 64), ("resnet50", 8, 256)]
)
def test_representation_dimension(name, width, dim):
    model = build_backbone(BackboneSpec(name, width, "cifar")).eval()
    assert model.output_dim == dim
    assert model(torch.zeros(2, 3, 32, 32)).shape == (2, dim)


def test_resnet18_has_torchvision_parameter_count():
    from torchvision.models import resnet18

    ours = build_backbone(BackboneSpec("resnet18", 64, "imagenet"))
    reference = resnet18()
    n_ref = sum(p.numel() for n, p in reference.named_parameters() if not n.startswith("fc."))
    assert sum(p.numel() for p in ours.parameters()) == n_ref


def test_cifar_stem_keeps_resolution_and_imagenet_stem_quarters_it():
    cifar = build_backbone(BackboneSpec("resnet18", 8, "cifar"))
    imagenet = build_backbone(BackboneSpec("resnet18", 8, "imagenet"))
    x = torch.zeros(1, 3, 32, 32)
    assert cifar.stem(x).shape[-1] == 32
    assert imagenet.stem(x).shape[-1] == 8


def test_unknown_backbone_names_the_key():
    with pytest.raises(ValueError, match="backbone.name"):
        build_backbone(BackboneSpec("vgg", 8, "cifar"))
