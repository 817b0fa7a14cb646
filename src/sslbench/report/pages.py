"""The report's pages: one papermill notebook per paper (two for the Q-Score paper's versions),
linked from ``index.html``. Kept free of heavy imports: the Snakefile reads it at parse time."""

from __future__ import annotations

#: page name (workflow/notebooks/<name>.ipynb → reports/<name>.html) → (title, papers covered,
#: MLflow stages whose runs the page's numbers come from).
PAGES: dict[str, tuple[str, tuple[str, ...], tuple[str, ...]]] = {
    "qscore": (
        "000 / 001 — Q-Score, discriminative features, interpretability",
        ("000", "001"),
        ("pretrain", "finetune", "evaluate", "qscore", "representation", "interpret"),
    ),
    "collapse": (
        "002 — Content suppresses style: dimensionality collapse",
        ("002",),
        ("collapse", "pretrain", "finetune", "evaluate", "representation"),
    ),
    "sparsehead": (
        "003 — SparseHead: spectra of representations and embeddings",
        ("003",),
        ("pretrain", "evaluate", "representation"),
    ),
    "ifm": (
        "004 — Feature suppression and implicit feature modification",
        ("004",),
        ("pretrain", "evaluate", "suppression_pretrain", "suppression_readout"),
    ),
}
