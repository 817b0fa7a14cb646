"""GradCAM IoUs pooled over a setting's seeds and compared with a percentile-bootstrap interval,
widened to the Student-t interval of the seeds' own differences (001 Fig. 7's claims; the
report decides on the interval, see :mod:`sslbench.report.representation`).

Each model's interpretability summary holds per-sample IoUs with the core and the spurious
region, the core's area fraction (the chance level of a core IoU) and the probe's correctness
(:mod:`sslbench.analysis.interpretability`, stage ``interpret``). numpy only: the report reads
these statistics without loading torch or grad-cam.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from sslbench.analysis.bootstrap import bootstrap_mean_difference
from sslbench.analysis.intervals import with_seed_spread

#: Comparisons within one model's samples; ``variants`` compares two models' core IoUs.
WITHIN_MODEL = ("core_vs_chance", "core_vs_spurious", "correct_vs_misclassified")


def pooled_iou(
    interpretations: Sequence[Mapping[str, Any]], group: str | None, key: str
) -> np.ndarray:
    """Per-sample ``key`` values (``iou_core``, ``iou_spurious``, ``core_area``) pooled over
    ``interpretations`` (of one group of samples, ``correct`` or ``misclassified``, or all);
    skipped analyses contribute nothing."""
    values = []
    for interp in interpretations:
        if "skipped" in interp:
            continue
        correct = np.asarray(interp["correct"], dtype=bool)
        keep = np.ones_like(correct) if group is None else correct == (group == "correct")
        values.append(np.asarray(interp[key], dtype=float)[keep])
    return np.concatenate(values) if values else np.zeros(0)


def iou_contrast(
    compare: str,
    control: Sequence[Mapping[str, Any]],
    treated: Sequence[Mapping[str, Any]],
    group: str | None,
) -> tuple[np.ndarray, np.ndarray | None]:
    """The pooled per-sample values whose mean difference ``compare`` reads: ``core_vs_chance``
    (one ``group``: core IoU − the core's area fraction, what a uniform heatmap scores),
    ``core_vs_spurious`` (one ``group``: core − spurious IoU), ``correct_vs_misclassified``
    (core IoU of each group) or ``variants`` (core IoU of ``treated`` and of ``control``); the
    second array is None where the first already is a per-sample difference."""
    if compare == "core_vs_chance":
        core = pooled_iou(control, group, "iou_core")
        return core - pooled_iou(control, group, "core_area"), None
    if compare == "core_vs_spurious":
        core = pooled_iou(control, group, "iou_core")
        return core - pooled_iou(control, group, "iou_spurious"), None
    if compare == "correct_vs_misclassified":
        return (
            pooled_iou(control, "correct", "iou_core"),
            pooled_iou(control, "misclassified", "iou_core"),
        )
    return pooled_iou(treated, None, "iou_core"), pooled_iou(control, None, "iou_core")


def _mean_difference(a: np.ndarray, b: np.ndarray | None) -> float:
    if a.size == 0 or (b is not None and b.size == 0):
        return float("nan")
    return float(a.mean() - (0.0 if b is None else b.mean()))


def pooled_iou_difference(
    compare: str,
    control: Sequence[Mapping[str, Any]],
    treated: Sequence[Mapping[str, Any]],
    group: str | None,
    n_samples: int,
    confidence: float,
    seed: int,
) -> dict[str, Any] | None:
    """The mean difference :func:`iou_contrast` names over the samples of every seed, with its
    percentile-bootstrap interval (each side resampled independently) widened to the Student-t
    interval of each seed's own difference (:func:`sslbench.analysis.intervals.with_seed_spread`:
    pooling the samples alone would treat the seeds as one training): ``difference``,
    ``interval``, ``per_seed`` (NaN where a seed has no samples), the sample counts ``n`` and
    ``n_other`` (None for a per-sample difference); None where a side has no samples.
    ``control`` holds one interpretation per seed; ``treated`` is empty for a comparison within
    one model, else holds the treated model of each seed of ``control``, in its order."""
    a, b = iou_contrast(compare, control, treated, group)
    if a.size == 0 or (b is not None and b.size == 0):
        return None
    difference, interval = bootstrap_mean_difference(a, b, n_samples, confidence, seed)
    per_seed = [
        _mean_difference(*iou_contrast(compare, [c], [] if t is None else [t], group))
        for c, t in zip(control, treated or [None] * len(control), strict=True)
    ]
    return {
        "difference": difference,
        "interval": with_seed_spread(interval, per_seed, confidence),
        "per_seed": per_seed,
        "n": int(a.size),
        "n_other": None if b is None else int(b.size),
    }
