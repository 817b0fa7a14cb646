"""Linear readout of a labelled factor from frozen features by k-fold cross-validation (004
§2.3: "linear readout accuracy" of colour, shape and texture on Trifeature; 004 Table 2 uses
5-fold cross-validation of a linear model). A multinomial logistic regression on standardised
features (scikit-learn), stratified folds shuffled with the run's seed."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler


@dataclass(frozen=True)
class ReadoutSpec:
    folds: int = 5
    inverse_regularisation: float = 1.0  # scikit-learn's C
    max_iter: int = 200


def cross_validated_accuracy(
    features: np.ndarray, labels: np.ndarray, spec: ReadoutSpec, seed: int
) -> tuple[float, float]:
    """Mean and std over folds of the held-out accuracy of a linear classifier."""
    model = make_pipeline(
        StandardScaler(),
        LogisticRegression(C=spec.inverse_regularisation, max_iter=spec.max_iter),
    )
    folds = StratifiedKFold(n_splits=spec.folds, shuffle=True, random_state=seed)
    scores = cross_val_score(model, features, labels, cv=folds)
    return float(np.mean(scores)), float(np.std(scores))


def cross_validated_readout(
    features: np.ndarray, labels: np.ndarray, spec: ReadoutSpec, seed: int
) -> dict[str, Any]:
    """:func:`cross_validated_accuracy` plus how many of its fits stopped at ``max_iter``
    before lbfgs converged (scikit-learn's ConvergenceWarning), for the report to flag."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        mean, std = cross_validated_accuracy(features, labels, spec, seed)
    not_converged = sum(issubclass(w.category, ConvergenceWarning) for w in caught)
    return {
        "accuracy": mean,
        "fold_std": std,
        "folds": spec.folds,
        "not_converged_fits": not_converged,
    }
