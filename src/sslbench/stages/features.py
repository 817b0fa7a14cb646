"""Stage 3: representations h and embeddings z of the train and test splits."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import torch

from sslbench.data import sources
from sslbench.device import CPU, Compute
from sslbench.features import extract_features
from sslbench.io import atomic_path
from sslbench.stages.common import evaluation_spec, load_model
from sslbench.tracking import run_provenance_tags

log = logging.getLogger(__name__)


def run(
    params: dict[str, Any],
    dataset_dir: Path,
    model_path: Path,
    out: Path,
    compute: Compute = CPU,
) -> None:
    model, model_params = load_model(model_path)
    augment = evaluation_spec(model_params["augment"])
    result: dict[str, Any] = {"provenance": run_provenance_tags(params, compute)}
    for split in sources.SPLITS:
        data = sources.load_split(dataset_dir, split)
        h, z = extract_features(model, data.images, augment, params["batch_size"], compute)
        result |= {f"h_{split}": h, f"z_{split}": z, f"labels_{split}": data.labels}
        log.info("%s: h %s, z %s", split, tuple(h.shape), tuple(z.shape))
    with atomic_path(out) as tmp:
        torch.save(result, tmp)
