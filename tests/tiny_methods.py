"""Tiny SSL methods for the method tests (test_method_*.py): every registry method with small
heads (hidden 32, output 16; other values as in config/config.yaml) on a width-4 ResNet-18, and
fixed random views."""

from pathlib import Path

import torch

from sslbench.methods import build_method
from sslbench.models.resnet import BackboneSpec, build_backbone

ROOT = Path(__file__).resolve().parents[1]
NON_CONTRASTIVE = ["byol", "simsiam", "vicreg", "barlowtwins", "dino", "swav"]
TARGET_NETWORKS = {"mocov2": "key_encoder", "byol": "target", "dino": "teacher"}

# Tiny heads for every method (hidden 32, output 16), other values as in config/config.yaml.
TINY: dict[str, dict] = {
    "simclr": {"temperature": 0.5, "projection_hidden_dim": 32, "projection_dim": 16},
    "mocov2": {
        "temperature": 0.2,
        "projection_hidden_dim": 32,
        "projection_dim": 16,
        "queue_size": 32,
        "base_momentum": 0.99,
        "final_momentum": 0.999,
        "recipe_steps_per_epoch": 195.3125,
    },
    "byol": {
        "projection_hidden_dim": 32,
        "projection_dim": 16,
        "prediction_hidden_dim": 32,
        "base_momentum": 0.99,
        "final_momentum": 1.0,
        "recipe_steps_per_epoch": 195.3125,
    },
    "swav": {
        "temperature": 0.1,
        "projection_hidden_dim": 32,
        "projection_dim": 16,
        "num_prototypes": 24,
        "sinkhorn_iterations": 3,
        "sinkhorn_epsilon": 0.05,
        "freeze_prototypes_fraction": 0.05,
        "queue_length": 0,
        "queue_start_fraction": 0.0,
    },
    "dino": {
        "projection_hidden_dim": 32,
        "projection_dim": 16,
        "num_prototypes": 24,
        "batch_norm": True,
        "student_temp": 0.1,
        "teacher_temp": 0.07,
        "warmup_teacher_temp": 0.04,
        "warmup_teacher_temp_fraction": 0.1,
        "center_momentum": 0.9,
        "base_momentum": 0.996,
        "final_momentum": 1.0,
        "recipe_steps_per_epoch": 195.3125,
    },
    "simsiam": {"projection_hidden_dim": 32, "projection_dim": 16, "prediction_hidden_dim": 8},
    "vicreg": {
        "projection_hidden_dim": 32,
        "projection_dim": 16,
        "invariance_weight": 25.0,
        "variance_weight": 25.0,
        "covariance_weight": 1.0,
    },
    "barlowtwins": {
        "projection_hidden_dim": 32,
        "projection_dim": 16,
        "lambda_offdiagonal": 0.0051,
        "scale_loss": 0.1,
    },
}


def tiny_model(name: str, seed: int = 0, **overrides):
    torch.manual_seed(seed)
    backbone = build_backbone(BackboneSpec("resnet18", 4, "cifar"))
    return build_method(name, backbone, TINY[name] | overrides).train()


def random_views(n: int = 8, seed: int = 1) -> list[torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(n, 3, 16, 16, generator=g) for _ in range(2)]


def assert_close(a, b):
    torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)
