"""Stage 0: create the MLflow store and experiment once, before any parallel job logs to it."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from sslbench.tracking import init_store

log = logging.getLogger(__name__)


def run(params: dict[str, Any]) -> None:
    experiment_id = init_store(
        params["tracking_uri"], params["experiment"], Path(params["artifact_root"])
    )
    log.info("MLflow store %s ready, experiment %s", params["tracking_uri"], experiment_id)
