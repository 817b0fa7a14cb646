"""ResNet backbones with a CIFAR or ImageNet stem and a configurable base width.

ResNet-18/50 follow He et al. (2016). The CIFAR stem (3×3 conv1, stride 1, no max-pool) is the
variant used by SimCLR for 32×32 inputs (Chen et al. 2020, App. B.9) and by solo-learn's CIFAR
recipes. ``base_width`` < 64 gives the narrow ResNet used for CPU runs; the blocks are
torchvision's, only the stage widths change.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torchvision.models.resnet import BasicBlock, Bottleneck

ARCHITECTURES: dict[str, tuple[type[nn.Module], tuple[int, ...]]] = {
    "resnet18": (BasicBlock, (2, 2, 2, 2)),
    "resnet50": (Bottleneck, (3, 4, 6, 3)),
}
STEMS = ("cifar", "imagenet")
STAGE_WIDTH_MULTIPLIERS = (1, 2, 4, 8)


@dataclass(frozen=True)
class BackboneSpec:
    """Architecture of the encoder f(·) that yields the representation h."""

    name: str = "resnet18"
    base_width: int = 64
    stem: str = "cifar"


class ResNet(nn.Module):
    """ResNet trunk returning the pooled representation h (no classifier)."""

    def __init__(self, spec: BackboneSpec) -> None:
        super().__init__()
        if spec.name not in ARCHITECTURES:
            raise ValueError(
                f"backbone.name: unknown {spec.name!r}; allowed {sorted(ARCHITECTURES)}"
            )
        if spec.stem not in STEMS:
            raise ValueError(f"backbone.stem: unknown {spec.stem!r}; allowed {list(STEMS)}")
        block, layers = ARCHITECTURES[spec.name]
        width = spec.base_width
        self.stem = _stem(spec.stem, width)
        stages = []
        in_planes = width
        for i, (blocks, mult) in enumerate(zip(layers, STAGE_WIDTH_MULTIPLIERS, strict=True)):
            planes = width * mult
            stride = 1 if i == 0 else 2
            stages.append(_stage(block, in_planes, planes, blocks, stride))
            in_planes = planes * block.expansion
        self.stages = nn.Sequential(*stages)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.output_dim = in_planes
        _init_weights(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.flatten(self.pool(self.stages(self.stem(x))), 1)


def _stem(kind: str, width: int) -> nn.Sequential:
    if kind == "cifar":
        conv = nn.Conv2d(3, width, kernel_size=3, stride=1, padding=1, bias=False)
        return nn.Sequential(conv, nn.BatchNorm2d(width), nn.ReLU(inplace=True))
    conv = nn.Conv2d(3, width, kernel_size=7, stride=2, padding=3, bias=False)
    pool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
    return nn.Sequential(conv, nn.BatchNorm2d(width), nn.ReLU(inplace=True), pool)


def _stage(
    block: type[nn.Module], in_planes: int, planes: int, blocks: int, stride: int
) -> nn.Sequential:
    out_planes = planes * block.expansion
    downsample = None
    if stride != 1 or in_planes != out_planes:
        downsample = nn.Sequential(
            nn.Conv2d(in_planes, out_planes, kernel_size=1, stride=stride, bias=False),
            nn.BatchNorm2d(out_planes),
        )
    layers = [block(in_planes, planes, stride, downsample)]
    layers += [block(out_planes, planes) for _ in range(blocks - 1)]
    return nn.Sequential(*layers)


def _init_weights(model: nn.Module) -> None:
    """Kaiming-normal convolutions and unit BatchNorm, as torchvision's ResNet."""
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)


def build_backbone(spec: BackboneSpec) -> ResNet:
    """Build the encoder f(·) described by ``spec``."""
    return ResNet(spec)
