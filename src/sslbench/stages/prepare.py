"""Stage 1: materialise a dataset from its config block."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from sslbench.data import sources

log = logging.getLogger(__name__)


def run(params: dict[str, Any], out_dir: Path) -> None:
    meta = sources.prepare(params["dataset_config"], out_dir)
    log.info("prepared %s: version %s, files %s", out_dir, meta["version"], sorted(meta["files"]))
