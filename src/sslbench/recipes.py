"""A method's training recipe from the config: its hyper-parameters, optimiser and views.

Each ``methods.<name>`` block holds the method's own hyper-parameters plus, optionally, the
recipe keys of its anchor (solo-learn's ``scripts/pretrain/cifar/<method>.yaml``):
``optimizer`` (keys replacing ``pretrain.optimizer``'s) and ``augment`` (one entry for all views
or one per view, keys replacing the global ``augment`` block's).
"""

from __future__ import annotations

from typing import Any

RECIPE_KEYS = ("optimizer", "augment")


def method_params(config: dict[str, Any], method: str) -> dict[str, Any]:
    """The hyper-parameters the method's constructor takes (its block without recipe keys)."""
    return {k: v for k, v in config["methods"][method].items() if k not in RECIPE_KEYS}


def method_optimizer(config: dict[str, Any], method: str) -> dict[str, Any]:
    """``pretrain.optimizer`` with the method's own optimizer keys on top."""
    return config["pretrain"]["optimizer"] | config["methods"][method].get("optimizer", {})


def method_views(config: dict[str, Any], method: str) -> list[dict[str, Any]]:
    """One full augment block per view entry of the method (the global block when it has none)."""
    views = config["methods"][method].get("augment", [{}])
    return [config["augment"] | view for view in views]
