"""Weighted k-nearest-neighbour classification on frozen representations (Wu et al. 2018,
eq. (8)–(9): cosine similarity, votes weighted by exp(s/T)); 003 Table 1 reports 5-NN."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import torch
import torch.nn.functional as F

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class KNNSpec:
    k: int = 20
    temperature: float = 0.1
    chunk_size: int = 1024


@torch.no_grad()
def knn_predictions(
    h_train: torch.Tensor,
    y_train: torch.Tensor,
    h_test: torch.Tensor,
    spec: KNNSpec,
    device: torch.device | str = "cpu",
) -> torch.Tensor:
    """Class of the weighted k-NN vote of each test sample among the train samples, computed
    on ``device`` (returned on the CPU)."""
    train = F.normalize(h_train.to(device).float(), dim=1)
    y_train = y_train.to(device)
    n_classes = int(y_train.max()) + 1
    k = min(spec.k, train.shape[0])
    if k < spec.k:
        log.warning(
            "evaluation.knn.k: %d exceeds the %d train samples; voting among all of them",
            spec.k,
            k,
        )
    predictions = []
    for start in range(0, h_test.shape[0], spec.chunk_size):
        test = F.normalize(h_test[start : start + spec.chunk_size].to(device).float(), dim=1)
        sims, idx = (test @ train.T).topk(k, dim=1)
        weights = (sims / spec.temperature).exp()
        votes = torch.zeros(test.shape[0], n_classes, device=train.device)
        votes.scatter_add_(1, y_train[idx], weights)
        predictions.append(votes.argmax(1))
    return torch.cat(predictions).cpu()


def knn_accuracy(
    h_train: torch.Tensor,
    y_train: torch.Tensor,
    h_test: torch.Tensor,
    y_test: torch.Tensor,
    spec: KNNSpec,
) -> float:
    """Top-1 accuracy of :func:`knn_predictions`."""
    return (knn_predictions(h_train, y_train, h_test, spec) == y_test).float().mean().item()
