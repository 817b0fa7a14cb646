"""Linear evaluation on frozen representations (the standard protocol of 000/001: a linear
classifier trained on frozen h; 001 trains it for 100 epochs).

The classifier is trained as solo-learn trains its CIFAR classifiers (the anchor 001 used):
SGD with momentum 0.9 at lr 0.1 per 256 samples (``classifier_lr`` of
``scripts/pretrain/cifar/*.yaml``), no weight decay, 100 epochs with the lr divided by 10 at
epochs 60 and 80 (``scripts/linear/*/*.yaml``), on features standardised with the train set's
mean and std. Adam at lr 1e-3 had not converged after 100 epochs (SimCLR on Trifeature, a
validation split of the train set: train / validation accuracy 38.8 / 35.1 % against
60.2 / 55.7 % with this schedule).

Probes of one analysis (001's compression curves train 56 per model) share the sample order
and train side by side as one batched classifier: each probe is a block of a stacked weight,
the loss is the sum of the probes' own mean cross-entropies, so every block receives exactly
the gradient, momentum and step it would receive alone (a probe's features are zero-padded to
the widest probe's width; padded inputs are zero, so their weights get no gradient and stay
zero). One probe is the case P = 1. On a GPU this turns 56 launch-bound loops of 19,600 steps
into one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F

#: ``lr`` is given per 256 samples and scaled to the batch size, as solo-learn scales its lrs.
LR_BATCH_SIZE = 256
#: Standard deviation of the classifier's initial weights (biases start at zero).
INIT_STD = 0.01


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


def _stacked(
    inputs: Sequence[tuple[torch.Tensor, torch.Tensor]], device: torch.device
) -> tuple[torch.Tensor, torch.Tensor]:
    """Each probe's standardised (train, test) features zero-padded to the widest and stacked:
    ``(P, N_train, width)`` and ``(P, N_test, width)`` on ``device``."""
    width = max(train.shape[1] for train, _ in inputs)
    n_train, n_test = inputs[0][0].shape[0], inputs[0][1].shape[0]
    x_train = torch.zeros(len(inputs), n_train, width, device=device)
    x_test = torch.zeros(len(inputs), n_test, width, device=device)
    for p, (train, test) in enumerate(inputs):
        tr, te = standardise(train.to(device).float(), test.to(device).float())
        x_train[p, :, : tr.shape[1]] = tr
        x_test[p, :, : te.shape[1]] = te
    return x_train, x_test


def _initial_weights(
    inputs: Sequence[tuple[torch.Tensor, torch.Tensor]], width: int, n_classes: int, seed: int
) -> torch.Tensor:
    """``(P, width, C)``: each probe's weights drawn N(0, INIT_STD²) from its own generator
    seeded ``seed`` (a probe's draws do not depend on the others), padded rows zero."""
    weight = torch.zeros(len(inputs), width, n_classes)
    for p, (train, _) in enumerate(inputs):
        g = torch.Generator().manual_seed(seed)
        weight[p, : train.shape[1]] = (
            torch.empty(n_classes, train.shape[1]).normal_(0.0, INIT_STD, generator=g).T
        )
    return weight


def linear_probes(
    inputs: Sequence[tuple[torch.Tensor, torch.Tensor]],
    y_train: torch.Tensor,
    y_test: torch.Tensor,
    spec: LinearProbeSpec,
    device: torch.device | str = "cpu",
) -> list[ProbeResult]:
    """Train one softmax linear classifier per ``(h_train, h_test)`` pair of ``inputs`` (same
    samples, any widths) with SGD and a step schedule, side by side on ``device``; evaluate each
    on its ``h_test``. Every probe sees the same seeded sample order."""
    if not inputs:
        raise ValueError("linear_probes: no features to probe")
    device = torch.device(device)
    x_train, x_test = _stacked(inputs, device)
    n_probes, n_train, width = x_train.shape
    n_classes = int(max(y_train.max(), y_test.max())) + 1
    weight = _initial_weights(inputs, width, n_classes, spec.seed).to(device).requires_grad_()
    bias = torch.zeros(n_probes, 1, n_classes, device=device, requires_grad=True)
    opt = torch.optim.SGD(
        [weight, bias],
        lr=spec.lr * spec.batch_size / LR_BATCH_SIZE,
        momentum=spec.momentum,
        weight_decay=spec.weight_decay,
    )
    sched = torch.optim.lr_scheduler.MultiStepLR(
        opt, list(spec.lr_decay_epochs), gamma=spec.lr_decay_factor
    )
    y_train, order_gen = y_train.to(device), torch.Generator().manual_seed(spec.seed)
    for _ in range(spec.epochs):
        order = torch.randperm(n_train, generator=order_gen).to(device, non_blocking=True)
        for idx in order.split(spec.batch_size):
            logits = torch.baddbmm(bias, x_train[:, idx], weight)
            # the sum over probes of each probe's mean cross-entropy
            loss = F.cross_entropy(
                logits.reshape(-1, n_classes), y_train[idx].repeat(n_probes), reduction="sum"
            ) / len(idx)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        sched.step()
    with torch.no_grad():
        confidence, predictions = torch.baddbmm(bias, x_test, weight).softmax(dim=2).max(dim=2)
    correct = predictions.cpu() == y_test.cpu()
    return [
        ProbeResult(
            correct[p].float().mean().item(), predictions[p].cpu(), correct[p], confidence[p].cpu()
        )
        for p in range(n_probes)
    ]


def linear_probe(
    h_train: torch.Tensor,
    y_train: torch.Tensor,
    h_test: torch.Tensor,
    y_test: torch.Tensor,
    spec: LinearProbeSpec,
    device: torch.device | str = "cpu",
) -> ProbeResult:
    """Train a softmax linear classifier on ``h_train`` with SGD and a step schedule; evaluate
    on ``h_test`` (:func:`linear_probes` of one probe)."""
    return linear_probes([(h_train, h_test)], y_train, y_test, spec, device)[0]
