"""Linear evaluation on frozen representations (the standard protocol of 000/001: a linear
classifier trained on frozen h; 001 trains it for 100 epochs).

The classifier is trained as solo-learn trains its CIFAR classifiers (the anchor 001 used):
SGD with momentum 0.9 at lr 0.1 per 256 samples (``classifier_lr`` of
``scripts/pretrain/cifar/*.yaml``), no weight decay, 100 epochs with the lr divided by 10 at
epochs 60 and 80 (``scripts/linear/*/*.yaml``), on features standardised with the train set's
mean and std. Adam at lr 1e-3, used before 2026-11-26, had not converged after 100 epochs
(SimCLR on Trifeature, a validation split of the train set: train / validation accuracy 38.8 /
35.1 % against 60.2 / 55.7 % with this schedule).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

#: ``lr`` is given per 256 samples and scaled to the batch size, as solo-learn scales its lrs.
LR_BATCH_SIZE = 256


@dataclass(frozen=True)
class LinearProbeSpec:
    epochs: int = 100
    batch_size: int = 256
    lr: float = 0.1
    weight_decay: float = 0.0
    momentum: float = 0.9
    lr_decay_epochs: tuple[int, ...] = (60, 80)
    lr_decay_factor: float = 0.1
    seed: int = 0


@dataclass(frozen=True)
class ProbeResult:
    accuracy: float
    predictions: torch.Tensor  # (N_test,) int64
    correct: torch.Tensor  # (N_test,) bool
    confidence: torch.Tensor  # (N_test,) max softmax probability


def standardise(train: torch.Tensor, test: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Scale features by train-set mean and std (the classifier's input normalisation)."""
    mean, std = train.mean(0), train.std(0).clamp_min(1e-6)
    return (train - mean) / std, (test - mean) / std


def linear_probe(
    h_train: torch.Tensor,
    y_train: torch.Tensor,
    h_test: torch.Tensor,
    y_test: torch.Tensor,
    spec: LinearProbeSpec,
) -> ProbeResult:
    """Train a softmax linear classifier on ``h_train`` with SGD and a step schedule; evaluate
    on ``h_test``."""
    x_train, x_test = standardise(h_train.float(), h_test.float())
    n_classes = int(max(y_train.max(), y_test.max())) + 1
    g = torch.Generator().manual_seed(spec.seed)
    layer = torch.nn.Linear(x_train.shape[1], n_classes)
    with torch.no_grad():
        layer.weight.normal_(0.0, 0.01, generator=g)
        layer.bias.zero_()
    opt = torch.optim.SGD(
        layer.parameters(),
        lr=spec.lr * spec.batch_size / LR_BATCH_SIZE,
        momentum=spec.momentum,
        weight_decay=spec.weight_decay,
    )
    sched = torch.optim.lr_scheduler.MultiStepLR(
        opt, list(spec.lr_decay_epochs), gamma=spec.lr_decay_factor
    )
    for _ in range(spec.epochs):
        order = torch.randperm(x_train.shape[0], generator=g)
        for start in range(0, x_train.shape[0], spec.batch_size):
            idx = order[start : start + spec.batch_size]
            loss = F.cross_entropy(layer(x_train[idx]), y_train[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        sched.step()
    with torch.no_grad():
        probs = layer(x_test).softmax(dim=1)
    confidence, predictions = probs.max(dim=1)
    correct = predictions == y_test
    return ProbeResult(correct.float().mean().item(), predictions, correct, confidence)
