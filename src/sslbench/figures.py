"""Figures the stages write beside their results (MLflow artifacts): 001 Fig. 6 / A.11's
GradCAM gallery (stage ``interpret``) and a figure that only says why there is nothing to draw.
The report pages' own figure helpers are :mod:`sslbench.report.figures`."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from sslbench.analysis.interpretability import GROUPS  # noqa: E402
from sslbench.io import atomic_path  # noqa: E402


def gallery(
    images: np.ndarray,
    discriminative: np.ndarray,
    lowly: np.ndarray,
    core: np.ndarray,
    correct: np.ndarray,
    out: Path,
) -> None:
    """001 Fig. 6 / A.11 style, one row per sample: the image, the heatmap of its discriminative
    features, the heatmap of a lowly activating feature, and the core mask."""
    if len(images) == 0:
        message_figure("no sample has a highly activating discriminative feature", out)
        return
    titles = ("image", "discriminative features", "lowly activating feature", "core mask")
    fig, axes = plt.subplots(len(images), 4, figsize=(8, 2 * len(images)), squeeze=False)
    for r, picture in enumerate(images.transpose(0, 2, 3, 1)):
        for c, ax in enumerate(axes[r]):
            if c in (1, 2):
                ax.imshow(picture)
                ax.imshow((discriminative, lowly)[c - 1][r], cmap="jet", alpha=0.5)
            else:
                ax.imshow(picture if c == 0 else core[r], cmap=None if c == 0 else "gray")
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_title(titles[c] if r == 0 else "", fontsize=8)
        axes[r, 0].set_ylabel(GROUPS[0] if correct[r] else GROUPS[1], fontsize=8)
    fig.tight_layout()
    with atomic_path(out) as tmp:
        fig.savefig(tmp, format="png", dpi=100)
    plt.close(fig)


def message_figure(text: str, out: Path) -> None:
    """A figure that only says ``text`` (where there is nothing to draw)."""
    fig, ax = plt.subplots(figsize=(4, 1))
    ax.axis("off")
    ax.text(0.5, 0.5, text, ha="center", va="center", fontsize=8, wrap=True)
    with atomic_path(out) as tmp:
        fig.savefig(tmp, format="png", dpi=100)
    plt.close(fig)
