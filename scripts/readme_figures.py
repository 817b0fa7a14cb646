"""The measured tables of README.md and docs/results/*.md, generated from finished runs' outputs.

Each generated table lives in one of those files between ``<!-- figures:<name> -->`` and
``<!-- /figures:<name> -->`` and comes from ``docs/snapshots/<name>.json``, a compact copy of the
numbers the table shows plus their provenance (date, machine, precision, commit). The README's
``glance`` region is a summary of several snapshots (:data:`SUMMARIES`): one row per scale with
its verdict counts. Subcommands:

``snapshot RUN --kind default|all_methods|replication|cifar10|gpu [--name NAME]``
    reads RUN's ``results/`` (result JSONs and their ``provenance`` blocks), ``reports/index.ipynb``
    (the claims' verdict overview) and ``mlflow.db`` (the training jobs' precision) and writes
    ``docs/snapshots/NAME.json`` (NAME defaults to the kind);
``render NAME``
    prints the Markdown of a snapshot (a stamp line, then the table) or of a summary;
``update [NAME ...]``
    rewrites those regions (every snapshot and summary when none is named) with their render,
    in whichever document holds each (README.md, docs/results/*.md; ``--doc`` names others);
``check [NAME ...]``
    exits non-zero, naming each region and its document, when a document differs from the
    render, when no document holds a region, or (no NAME given) when a document has a region
    without a snapshot.

After a default run finished in ``/work/runs/def`` (``make run``), refresh its table with::

    python scripts/readme_figures.py snapshot /work/runs/def --kind default && \\
        python scripts/readme_figures.py update default glance

and ``config/all_methods.yaml``'s run the same way with ``--kind all_methods``,
``config/replication_cpu.yaml``'s with ``--kind replication`` (its verdicts per paper, decided
share, unstable rows and the jobs' wall time from ``mlflow.db``), and
``config/cifar10_cpu.yaml``'s (layered over the default run) with ``--kind cifar10``. For
``--kind gpu``, RUN is the folder of ``benchmarks/gpu_check.sh``'s outputs (its ``$OUT``; the
files of several device calls may be gathered in one folder, their summary lines appended).
``tests/test_readme_figures.py`` runs ``check`` on the committed documents and snapshots.
"""

from __future__ import annotations

import argparse
import datetime
import html
import json
import re
import sqlite3
import statistics
import sys
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
#: one file per kind of run, each holding that run's generated tables
RESULTS = REPO / "docs" / "results"
SNAPSHOTS = REPO / "docs" / "snapshots"
SCRIPT = "scripts/readme_figures.py"

DATASET = "trifeature"
SEED = 0
#: (variant directory, label) of the default run's models, in table order.
FINETUNES_001 = (
    ("finetune-none", "none"),
    ("finetune-lasso", "Lasso"),
    ("finetune-qscore", "Q-Score"),
)
FINETUNES_000 = (("finetune000-none", "none"), ("finetune000-qscore_v1", "Q-Score v1"))
BASELINE = "pretrain-none"
#: (method directory, display name) of 001 Table 1's eight methods, in table order.
METHODS = (
    ("simclr", "SimCLR"),
    ("mocov2", "MoCo v2+"),
    ("byol", "BYOL"),
    ("swav", "SwAV"),
    ("dino", "DINO"),
    ("simsiam", "SimSiam"),
    ("vicreg", "VICReg"),
    ("barlowtwins", "Barlow Twins"),
)
#: 002's controlled experiments: Table 1's settings and Fig. 1's linear ones, in table order.
COLLAPSE_TABLE1 = (("table1_box", "box"), ("table1_sphere", "sphere"))
COLLAPSE_FIG1 = ("linear_dc0", "linear_dc1", "linear_dc1_tau")
#: MLflow stages whose precision is the one the numbers were trained under.
TRAINING_STAGES = ("pretrain", "finetune")
#: the verdict overview's row of all papers (src/sslbench/report/presentation.py)
ALL_PAPERS = "all"
VERDICTS = ("replicated", "contradicted", "inconclusive", "not run")
DECIDED = ("replicated", "contradicted")
UNSTABLE = "unstable"
#: the claims-table columns a snapshot keeps per row (scripts/compare_verdicts.py matches on them)
VERDICT_KEYS = ("paper", "claim", "run", "verdict")
KINDS = ("default", "all_methods", "replication", "cifar10", "gpu")
CIFAR10 = "cifar10"
GPU = "gpu"
#: benchmarks/gpu.py's SimCLR rows beyond the pipeline's own: (variant, label), in table order.
GPU_VARIANTS = (
    ("contiguous", "SimCLR, default (contiguous) layout"),
    ("lars_per_tensor", "SimCLR, LARS tensor by tensor"),
    ("compiled", "SimCLR, compiled"),
    ("cuda_graphs", "SimCLR, compiled with CUDA graphs"),
)
THOUSANDS = 1000
#: What a gpu_check step's exit code says about a DAG run (others: a job failed).
DAG_OUTCOMES = {0: "all done", 124: "stopped at its time limit"}
#: 000 Table 1's simple metrics shown beside Q-Score v1 (AUROC as predictors of correctness)
SIMPLE_METRICS = ("z_score_max", "soft_sparsity")
MS_PER_MINUTE = 60_000
CIFAR10_TRAIN_IMAGES = 50_000
VIEWS_PER_IMAGE = 2  # SimCLR's two views

PERCENT = 100
ACCURACY_DECIMALS = 1  # accuracies in % (55.8 %)
SCORE_DECIMALS = 3  # AUROC, AUPRC, mIoU, probe accuracies of the compression curves
LOSS_DECIMALS = 2  # 002's losses and effective ranks of W
RANK_DECIMALS = 1  # effective ranks
SPARSITY_DECIMALS = 2  # share of near-zero entries of h, in %
MOVEMENT_DIGITS = 3  # significant digits of ‖θ − θ₀‖ / ‖θ₀‖
MISSING = "—"
NOT_RECORDED = "not recorded"
#: How the replication table groups the report's "why inconclusive" texts
#: (src/sslbench/report/seeds.py, presentation.py, verdicts.py): label, pattern; first match
#: wins, a projection's number is the pattern's group.
WHY_GROUPS = (
    ("more seeds (or encoder pairs) would decide it", r"≈ ([\d,]+) (?:seeds|pairs) would decide"),
    ("more than 1,000 seeds (or pairs) needed", r"more than [\d,]+ (?:seeds|pairs)"),
    ("seeds suffice; the test samples' noise keeps it open", r"more test samples needed"),
    ("the seeds disagree (each seed decided on its own)", r"the seeds disagree"),
    ("every seed undecided (each seed decided on its own)", r"every seed is undecided"),
    ("point values on both sides of the threshold", r"both sides of the threshold"),
    ("one interval, not over seeds, contains the minimal effect", r"more seeds or test samples"),
    ("the treated model did not move", r"did not move"),
    ("not computable on the model", r"not computable"),
)
OTHER_WHY = "other"
#: decimals kept before rounding half up, so 0.28949999 (float32 of 579 / 2000) shows 29.0
ROUNDING_GUARD = 6


# --- reading a run -------------------------------------------------------------------------


def read_json(path: Path) -> dict[str, Any] | None:
    """A result JSON, or None when the run did not write it."""
    return json.loads(path.read_text()) if path.exists() else None


def model_dir(run: Path, method: str, variant: str, dataset: str = DATASET) -> Path:
    return run / "results" / dataset / method / f"seed{SEED}" / variant


class Reader:
    """Reads result JSONs of one run and keeps their provenance blocks and newest mtime."""

    def __init__(self, run: Path) -> None:
        self.run = run
        self.provenance: list[dict[str, str]] = []
        self.newest = 0.0

    def json(self, path: Path) -> dict[str, Any] | None:
        result = read_json(path)
        if result is not None:
            self.provenance.append(result.get("provenance", {}))
            self.newest = max(self.newest, path.stat().st_mtime)
        return result


def model_numbers(
    reader: Reader, method: str, variant: str, dataset: str = DATASET
) -> dict[str, Any]:
    """Accuracies, Q-Scores (and 000 Table 1's simple metrics), movement, sparsity and
    pretraining time of one model."""
    where = model_dir(reader.run, method, variant, dataset)
    numbers: dict[str, Any] = {}
    evaluation = reader.json(where / "eval.json")
    if evaluation is not None:
        numbers["linear"] = evaluation["linear_probe_accuracy"]
        numbers["knn"] = evaluation["knn_accuracy"]
    qscore = reader.json(where / "qscore.json")
    if qscore is not None:
        numbers["qscore"] = qscore["metrics"]["q_score"]
        numbers["qscore_v1"] = qscore["metrics"]["q_score_v1"]
        numbers["simple_metrics"] = {
            name: qscore["metrics"][name]["auroc"] for name in SIMPLE_METRICS
        }
        numbers["sparsity_percent"] = qscore["sparsity_percent"]
        selected = qscore["selected"]
        numbers["qscore_selected"] = selected["metrics"]["q_score"] | {
            key: selected[key]
            for key in (
                "epsilon",
                "lower_percentile",
                "upper_percentile",
                "n_discriminative_features",
            )
        }
    movement = reader.json(where / "movement.json")
    if movement is not None:
        numbers["moved"] = movement["relative_weight_change"]
    history = read_json(where / "history.json")  # a list of epochs, no provenance
    if history is not None:
        seconds = [epoch["seconds"] for epoch in history]
        numbers["pretrain_seconds"] = sum(seconds)
        numbers["fastest_epoch_seconds"] = min(seconds)
    return numbers


def representation_numbers(reader: Reader) -> dict[str, Any] | None:
    """Effective ranks of h and z and 001 Fig. 2's compression curves of the baseline."""
    result = reader.json(model_dir(reader.run, "simclr", BASELINE) / "representation.json")
    if result is None:
        return None
    spectrum, compression = result["spectrum"], result["compression"]
    return {
        "rank_h": spectrum["h"]["effective_rank"],
        "rank_z": spectrum["z"]["effective_rank"],
        "dimension_h": spectrum["h"]["dimension"],
        "compression": {
            key: compression[key] for key in ("keep_percent", "discriminative", "random", "pca")
        },
    }


def gradcam_numbers(reader: Reader) -> dict[str, Any] | None:
    """001 Fig. 7's mIoU of the baseline's GradCAM heatmaps with the core region."""
    result = reader.json(model_dir(reader.run, "simclr", BASELINE) / "interpretability.json")
    if result is None:
        return None
    return {
        "groups": result["groups"],
        "n_samples": result["n_samples"],
        "n_with_discriminative": result["n_samples"] - result["n_without_discriminative_features"],
    }


def collapse_seeds(reader: Reader, setting: str) -> list[dict[str, Any]]:
    """Every seed's result of one of 002's settings."""
    paths = sorted((reader.run / "results" / "collapse" / setting).glob("seed*.json"))
    return [reader.json(path) for path in paths]


def collapse_numbers(reader: Reader) -> dict[str, Any]:
    """002 Table 1 (trained loss per seed vs f = g⁻¹) and Fig. 1 (effective rank of W)."""
    numbers: dict[str, Any] = {}
    for setting, _ in COLLAPSE_TABLE1:
        seeds = collapse_seeds(reader, setting)
        numbers[setting] = {
            "trained": [seed["loss"]["trained"]["total"] for seed in seeds],
            "inverse": [seed["loss"]["inverse"]["total"] for seed in seeds],
        }
    for setting in COLLAPSE_FIG1:
        seeds = collapse_seeds(reader, setting)
        numbers[setting] = [seed["spectrum"]["weight_effective_rank"] for seed in seeds]
    return numbers


def index_html(run: Path) -> str | None:
    """Every HTML output of a run's executed report index (``reports/index.ipynb``), joined;
    None when the run has no report."""
    notebook = run / "reports" / "index.ipynb"
    if not notebook.exists():
        return None
    return "".join(
        "".join(output.get("data", {}).get("text/html", []))
        for cell in json.loads(notebook.read_text())["cells"]
        for output in cell.get("outputs", [])
    )


def cell_text(cell: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", cell)).strip()


def claim_rows(page: str) -> list[dict[str, str]]:
    """The rows of every per-paper claims table (``id="claims-<paper>"``) as column → text."""
    rows = []
    for paper, table in re.findall(r'<table[^>]*id="claims-(\w+)"[^>]*>(.*?)</table>', page, re.S):
        head = re.search(r"<thead>(.*?)</thead>", table, re.S).group(1)
        columns = [cell_text(c) for c in re.findall(r"<th[^>]*>(.*?)</th>", head, re.S)]
        for body in re.findall(r"<tr>(.*?)</tr>", table.split("</thead>", 1)[1], re.S):
            cells = [cell_text(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", body, re.S)]
            rows.append({"paper": paper} | dict(zip(columns, cells, strict=True)))
    return rows


def why_group(why: str) -> tuple[str, int | None]:
    """The :data:`WHY_GROUPS` label of an inconclusive row's reason, and the seeds (or pairs)
    its projection names (None where it names none)."""
    for label, pattern in WHY_GROUPS:
        found = re.search(pattern, why)
        if found is not None:
            number = found.groups()[0] if found.groups() else None
            return label, None if number is None else int(number.replace(",", ""))
    return OTHER_WHY, None


def undecided(run: Path) -> dict[str, list[int | None]] | None:
    """The report's inconclusive rows grouped by why they stay undecided (:func:`why_group`),
    each with the number of seeds or pairs its projection names."""
    page = index_html(run)
    if page is None:
        return None
    groups: dict[str, list[int | None]] = {}
    for row in claim_rows(page):
        if row["verdict"] == "inconclusive":
            label, number = why_group(row["why inconclusive"])
            groups.setdefault(label, []).append(number)
    return groups


def claim_verdicts(run: Path) -> list[dict[str, str]] | None:
    """Paper, statement, run label and verdict of every claims-table row: what
    ``scripts/compare_verdicts.py`` matches across seed sets, kept in the snapshot so that two
    seed sets' runs can be compared after their outputs are gone."""
    page = index_html(run)
    if page is None:
        return None
    return [{key: row[key] for key in VERDICT_KEYS} for row in claim_rows(page)]


def verdict_overview(run: Path) -> dict[str, dict[str, int]] | None:
    """Claims per verdict of every paper's row of the report's verdict overview (and of the row
    of all papers), with the rows whose seeds disagree (``unstable``) where the report shows it."""
    html = index_html(run)
    if html is None:
        return None
    overview = re.search(r'<table[^>]*id="verdict-overview".*?</table>', html, re.DOTALL)
    if overview is None:
        return None
    header = re.search(r"<thead>(.*?)</thead>", overview.group(0), re.DOTALL)
    columns = re.findall(r'<span class="verdict"[^>]*>([^<]+)</span>', header.group(1))
    rows = {}
    paper_rows = re.findall(r'<tr data-paper="(\w+)">(.*?)</tr>', overview.group(0), re.DOTALL)
    for paper, row in paper_rows:
        cells = re.findall(r'<td class="num">(\d+)</td>', row)
        rows[paper] = {column: int(cell) for column, cell in zip(columns, cells, strict=True)}
        unstable = re.search(r'<td class="num unstable-count">(\d+)</td>', row)
        if unstable is not None:
            rows[paper][UNSTABLE] = int(unstable.group(1))
    return rows


def verdict_counts(run: Path) -> dict[str, int] | None:
    """Claims per verdict: the "all papers" row of the report's verdict overview."""
    overview = verdict_overview(run)
    return None if overview is None else overview[ALL_PAPERS]


def job_span(run: Path, dataset: str | None = None) -> dict[str, Any] | None:
    """The run's MLflow jobs (of ``dataset`` only, if given): how many, and the wall time from
    the first job's start to the last one's end (the Snakemake run less its start-up and DAG
    building)."""
    store = run / "mlflow.db"
    if not store.exists():
        return None
    query = "select count(*), min(r.start_time), max(r.end_time) from runs r where r.status = ?"
    args: list[str] = ["FINISHED"]
    if dataset is not None:
        query += (
            " and exists (select 1 from tags t where t.run_uuid = r.run_uuid"
            " and t.key = 'dataset' and t.value = ?)"
        )
        args.append(dataset)
    with sqlite3.connect(f"file:{store}?mode=ro", uri=True) as connection:
        jobs, start, end = connection.execute(query, args).fetchone()
    return {"jobs": jobs, "minutes": (end - start) / MS_PER_MINUTE}


def placeholders(n: int) -> str:
    return ", ".join(["?"] * n)


def training_precision(run: Path, methods: list[str]) -> list[str]:
    """Distinct 'precision, layout' tags of the run's training jobs of ``methods`` in MLflow."""
    store = run / "mlflow.db"
    if not store.exists():
        return []
    query = """
        select distinct p.value || ', ' || l.value from tags s
        join tags p on p.run_uuid = s.run_uuid and p.key = 'precision'
        join tags l on l.run_uuid = s.run_uuid and l.key = 'layout'
        join tags m on m.run_uuid = s.run_uuid and m.key = 'method'
        where s.key = 'stage' and s.value in ({stages}) and m.value in ({methods})
        order by 1"""
    with sqlite3.connect(f"file:{store}?mode=ro", uri=True) as connection:
        rows = connection.execute(
            query.format(
                stages=placeholders(len(TRAINING_STAGES)), methods=placeholders(len(methods))
            ),
            [*TRAINING_STAGES, *methods],
        ).fetchall()
    return [row[0] for row in rows]


def distinct(blocks: list[dict[str, str]], key: str) -> str:
    """The values of ``key`` over the provenance blocks that have it, ' + ' between values."""
    return " + ".join(sorted({block[key] for block in blocks if key in block})) or NOT_RECORDED


def stamp_provenance(reader: Reader, methods: list[str]) -> dict[str, str]:
    """Date (newest result file, UTC), machine, training precision and commit of a run."""
    blocks = reader.provenance
    cores = f"{distinct(blocks, 'cpu_count')} cores, {distinct(blocks, 'device')}"
    machine = f"{distinct(blocks, 'cpu_model')} ({cores})"
    if any("gpu_name" in block for block in blocks):
        machine = f"{distinct(blocks, 'gpu_name')} ({distinct(blocks, 'device')})"
    dirty = distinct(blocks, "git_dirty")
    precision = training_precision(reader.run, methods) or [distinct(blocks, "precision")]
    return {
        "date": datetime.datetime.fromtimestamp(reader.newest, datetime.UTC).date().isoformat(),
        "machine": machine,
        "precision": " + ".join(precision),
        "commit": distinct(blocks, "git_commit")
        + (" (uncommitted edits)" if dirty == "true" else ""),
    }


def invocations(run: Path) -> list[dict[str, Any]]:
    """Every finished Snakemake invocation of a run, oldest first: jobs it ran and its wall time
    (the "Elapsed time" Snakemake writes at the end of its log in ``.snakemake/log``)."""
    found = []
    for log in sorted((run / ".snakemake" / "log").glob("*.snakemake.log")):
        text = log.read_text()
        elapsed = re.search(r"Elapsed time: (\d+):(\d+):(\d+)", text)
        if elapsed is None:
            continue
        hours, minutes, seconds = (int(x) for x in elapsed.groups())
        found.append(
            {
                "jobs": len(re.findall(r"^Finished jobid", text, re.MULTILINE)),
                "minutes": hours * 60 + minutes + seconds / 60,
            }
        )
    return found


def replication_numbers(reader: Reader) -> dict[str, Any]:
    """The replication run (config/replication_cpu.yaml): its verdict overview per paper, its
    Snakemake invocations' wall times and the baseline's linear accuracy per seed."""
    baseline = {}
    for path in sorted((reader.run / "results" / DATASET / "simclr").glob("seed*/*/eval.json")):
        evaluation = reader.json(path)  # every model's provenance goes into the stamp
        if path.parent.name == BASELINE:
            baseline[path.parent.parent.name] = evaluation["linear_probe_accuracy"]
    return {
        "papers": verdict_overview(reader.run),
        "undecided": undecided(reader.run),
        "verdicts": claim_verdicts(reader.run),
        "invocations": invocations(reader.run),
        "baseline_linear": baseline,
    }


def gpu_check_snapshot(check: Path, code_commit: str | None) -> dict[str, Any]:
    """``benchmarks/gpu_check.sh``'s outputs: the device (``summary.txt``), every step's exit
    and seconds, ``benchmarks/gpu.py``'s rows, the CIFAR-10 run through the DAG (accuracies,
    epochs, each job's start-up and stage seconds) and the tiny DAG's jobs."""
    card, python_torch_cuda, recorded_commit, *lines = (
        (check / "summary.txt").read_text().splitlines()
    )
    gpu, driver, _memory = card.split(", ")
    python, torch_version, cuda = python_torch_cuda.split()
    steps = {}
    for line in lines:
        found = re.fullmatch(r"(\w+): exit (\d+) after (\d+) s", line)
        if found:
            steps[found[1]] = {"exit": int(found[2]), "seconds": int(found[3])}
    bench = json.loads((check / "benchmark.json").read_text())
    evaluation = json.loads((check / "cifar10_eval.json").read_text())
    epochs = re.findall(r"epoch (\d+)/\d+ step", (check / "cifar10_pretrain.log").read_text())
    tiny_done = re.findall(r"(\d+) of (\d+) steps", (check / "tiny_dag.log").read_text())[-1]
    tiny_settings = {}
    for line in lines:
        found = re.fullmatch(r"tiny_dag settings: jobs_per_gpu (\d+), job_server (\w+)", line)
        if found:
            tiny_settings = {"jobs_per_gpu": int(found[1]), "job_server": found[2] == "true"}
    newest = max((check / name).stat().st_mtime for name in ("benchmark.json", "cifar10_eval.json"))
    return {
        "kind": GPU,
        "provenance": {
            "date": datetime.datetime.fromtimestamp(newest, datetime.UTC).date().isoformat(),
            "machine": f"one {gpu} (driver {driver}, CUDA {cuda}, torch {torch_version},"
            f" Python {python})",
            "precision": "bf16 autocast, channels_last",
            "commit": code_commit or recorded_commit,
        },
        "steps": steps,
        "peak_tflops": bench["peak_flops"] / 1e12,
        "benchmark": bench["rows"],
        "cifar10": {
            "linear": evaluation["linear_probe_accuracy"],
            "knn": evaluation["knn_accuracy"],
            "epochs": int(epochs[-1]),
            "jobs": job_seconds(check / "cifar10_jobs.tsv"),
        },
        "tiny_dag": {"done": int(tiny_done[0]), "total": int(tiny_done[1])}
        | tiny_settings
        | {"jobs": job_seconds(check / "tiny_jobs.tsv")},
    }


def job_seconds(tsv: Path) -> dict[str, dict[str, float]]:
    """Per rule, from gpu_check.sh's ``rule, job, start-up s, stage s`` lines: the jobs that
    finished and their mean start-up and stage seconds."""
    by_rule: dict[str, list[tuple[float, float]]] = {}
    for line in tsv.read_text().splitlines():
        rule, _job, startup, stage = line.split("\t")
        by_rule.setdefault(rule, []).append((float(startup), float(stage)))
    return {
        rule: {
            "jobs": len(times),
            "startup": statistics.mean(t[0] for t in times),
            "stage": statistics.mean(t[1] for t in times),
        }
        for rule, times in sorted(by_rule.items())
    }


def snapshot(run: Path, kind: str, code_commit: str | None = None) -> dict[str, Any]:
    """The numbers one README table shows, with their provenance; ``code_commit``: the
    project commit a run directory was copied from, where the copy's own git history (which
    its results record) does not name it."""
    if kind == GPU:
        return gpu_check_snapshot(run, code_commit)
    reader = Reader(run)
    if kind == "default":
        variants = [BASELINE] + [v for v, _ in FINETUNES_001] + [v for v, _ in FINETUNES_000]
        data: dict[str, Any] = {
            "models": {variant: model_numbers(reader, "simclr", variant) for variant in variants},
            "representation": representation_numbers(reader),
            "gradcam": gradcam_numbers(reader),
            "collapse": collapse_numbers(reader),
            "claims": verdict_counts(run),
            "invocations": invocations(run),
        }
        methods = ["simclr"]
    elif kind == CIFAR10:
        variants = [BASELINE] + [v for v, _ in FINETUNES_001] + [v for v, _ in FINETUNES_000]
        data = {
            "models": {v: model_numbers(reader, "simclr", v, CIFAR10) for v in variants},
            "claims": verdict_counts(run),
            "jobs": job_span(run, CIFAR10),
        }
        methods = ["simclr"]
    elif kind == "replication":
        data = replication_numbers(reader)
        methods = ["simclr"]
    else:
        data = {"methods": {m: model_numbers(reader, m, BASELINE) for m, _ in METHODS}}
        methods = [m for m, _ in METHODS]
    provenance = stamp_provenance(reader, methods)
    if code_commit is not None:
        provenance["commit"] = f"{code_commit} (run copy recorded {provenance['commit']})"
    return {"kind": kind, "provenance": provenance} | data


# --- rendering -----------------------------------------------------------------------------


def rounded(value: float, decimals: int) -> str:
    """``value`` with ``decimals`` decimals, halves rounded up (as a reader rounds 28.95)."""
    exact = Decimal(str(round(value, ROUNDING_GUARD)))
    return str(exact.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP))


def pct(value: float | None) -> str:
    return MISSING if value is None else rounded(value * PERCENT, ACCURACY_DECIMALS)


def num(value: float | None, decimals: int = SCORE_DECIMALS) -> str:
    return MISSING if value is None else rounded(value, decimals)


def interval(score: dict[str, Any] | None, key: str) -> str:
    """'0.512 [0.499, 0.525]' of a score's value and its 95 % bootstrap interval."""
    if score is None:
        return MISSING
    low, high = score[f"{key}_ci"]
    return f"{num(score[key])} [{num(low)}, {num(high)}]"


def stamp(name: str, provenance: dict[str, str]) -> str:
    return (
        f"Measured {provenance['date']} on {provenance['machine']}, {provenance['precision']},"
        f" commit {provenance['commit']} (generated by {SCRIPT} from docs/snapshots/{name}.json)"
    )


def table(header: tuple[str, ...], rows: list[tuple[str, ...]], numeric_from: int) -> str:
    """A Markdown table; columns from ``numeric_from`` on are right-aligned."""
    align = ["---" if i < numeric_from else "---:" for i in range(len(header))]
    lines = [header, tuple(align), *rows]
    return "\n".join("| " + " | ".join(line) + " |" for line in lines)


def joined(
    models: dict[str, dict[str, Any]], variants: tuple[tuple[str, str], ...], key: str, show
) -> str:
    return " / ".join(show(models[variant].get(key)) for variant, _ in variants)


def default_rows(snap: dict[str, Any]) -> list[tuple[str, str]]:
    """Rows of the default run's table (Trifeature shape, SimCLR seed 0)."""
    rows = model_rows(snap["models"])
    rows += representation_rows(snap["representation"]) + gradcam_rows(snap["gradcam"])
    rows += collapse_rows(snap["collapse"]) + claims_rows(snap["claims"])
    return rows + invocation_rows(snap.get("invocations", []))


def invocation_rows(runs: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """The run's wall time: each Snakemake invocation's jobs and minutes (none recorded: no row)."""
    if not runs:
        return []
    return [("wall time (Snakemake invocations)", invocation_spans(runs, 1))]


def invocation_spans(runs: list[dict[str, Any]], decimals: int) -> str:
    """ "N jobs in M min; then …" for each Snakemake invocation, minutes to ``decimals``."""
    spans = (f"{run['jobs']} jobs in {run['minutes']:.{decimals}f} min" for run in runs)
    return "; then ".join(spans)


def cifar10_rows(snap: dict[str, Any]) -> list[tuple[str, str]]:
    """Rows of the CIFAR-10 table (config/cifar10_cpu.yaml over the default run)."""
    jobs, base = snap["jobs"], snap["models"][BASELINE]
    metrics = base.get("simple_metrics", {})
    rows = [
        (
            "CIFAR-10 jobs (first job's start to last job's end); SimCLR pretraining",
            f"{jobs['jobs']} jobs in {jobs['minutes']:.0f} min;"
            f" {base['pretrain_seconds']:,.0f} s, fastest epoch"
            f" {base['fastest_epoch_seconds']:.1f} s",
        ),
        *model_rows(snap["models"]),
        (
            "000 Table 1's simple metrics, AUROC: z-score of max / soft sparsity",
            " / ".join(num(metrics.get(name)) for name in SIMPLE_METRICS),
        ),
    ]
    return rows + claims_rows(snap["claims"])


def model_rows(models: dict[str, dict[str, Any]]) -> list[tuple[str, str]]:
    """Baseline accuracies, the fine-tunes and the Q-Scores of SimCLR seed 0."""
    base = models[BASELINE]
    labels_001 = " / ".join(label for _, label in FINETUNES_001)
    labels_000 = " / ".join(label for _, label in FINETUNES_000)

    def moved(value: float | None) -> str:
        return MISSING if value is None else f"{value:.{MOVEMENT_DIGITS}g}"

    def sparsity(value: float | None) -> str:
        return num(value, SPARSITY_DECIMALS)

    rows = [
        (
            "baseline linear probe / 20-NN",
            f"{pct(base.get('linear'))} % / {pct(base.get('knn'))} %",
        ),
        (
            f"001 fine-tunes {labels_001}: linear; backbone moved ‖θ − θ₀‖/‖θ₀‖",
            f"{joined(models, FINETUNES_001, 'linear', pct)} %;"
            f" {joined(models, FINETUNES_001, 'moved', moved)}",
        ),
        (
            f"000 fine-tunes {labels_000}: linear; moved; sparsity of h",
            f"{joined(models, FINETUNES_000, 'linear', pct)} %;"
            f" {joined(models, FINETUNES_000, 'moved', moved)};"
            f" {joined(models, FINETUNES_000, 'sparsity_percent', sparsity)} %",
        ),
    ]
    selected = base.get("qscore_selected")
    if selected is not None:
        rows.append(
            (
                "Q-Score v2 (001 eq. 1) AUROC / AUPRC at 001's ε;"
                " at the ε × window chosen on the train validation split",
                f"{interval(base.get('qscore'), 'auroc')} / {num(base['qscore']['auprc'])};"
                f" {interval(selected, 'auroc')} / {num(selected['auprc'])}"
                f" (ε = {selected['epsilon']:g}, window"
                f" {selected['lower_percentile']:g}–{selected['upper_percentile']:g} %"
                + (
                    f", {selected['n_discriminative_features']} discriminative features)"
                    if "n_discriminative_features" in selected
                    else ")"
                ),
            )
        )
        rows.append(
            (
                "Q-Score v1 (000 eq. 2) AUROC / AUPRC",
                f"{interval(base['qscore_v1'], 'auroc')} / {num(base['qscore_v1']['auprc'])}",
            )
        )
    return rows


def representation_rows(rep: dict[str, Any] | None) -> list[tuple[str, str]]:
    if rep is None:
        return []
    curves = rep["compression"]
    keep = " / ".join(num(k, 0) for k in curves["keep_percent"])
    series = "; ".join(
        f"{label} " + " / ".join(num(v) for v in curves[key])
        for key, label in (("discriminative", "middle of A"), ("random", "random"), ("pca", "PCA"))
    )
    return [
        (f"001 Fig. 2 compression, linear accuracy keeping {keep} % of h", series),
        (
            f"effective rank of h / z (h has {rep['dimension_h']} dimensions)",
            f"{num(rep['rank_h'], RANK_DECIMALS)} / {num(rep['rank_z'], RANK_DECIMALS)}",
        ),
    ]


def gradcam_rows(gradcam: dict[str, Any] | None) -> list[tuple[str, str]]:
    if gradcam is None:
        return []
    correct, wrong = gradcam["groups"]["correct"], gradcam["groups"]["misclassified"]
    return [
        (
            "001 Fig. 7 GradCAM mIoU_core (chance = core area)",
            f"correct {num(correct['miou_core'])} ({num(correct['core_area'])}),"
            f" misclassified {num(wrong['miou_core'])} ({num(wrong['core_area'])});"
            f" {gradcam['n_with_discriminative']} of {gradcam['n_samples']} samples"
            " have L_i ∩ D ≠ ∅",
        )
    ]


def mean_sd(values: list[float]) -> str:
    """Mean ± sample standard deviation over seeds."""
    mean, sd = statistics.mean(values), statistics.stdev(values)
    return f"{num(mean, LOSS_DECIMALS)} ± {num(sd, LOSS_DECIMALS)}"


def collapse_rows(collapse: dict[str, Any]) -> list[tuple[str, str]]:
    if not all(collapse[setting]["trained"] for setting, _ in COLLAPSE_TABLE1):
        return []
    n_seeds = len(collapse[COLLAPSE_TABLE1[0][0]]["trained"])
    table1 = "; ".join(
        f"{label} {mean_sd(collapse[setting]['trained'])}"
        f" vs {num(statistics.mean(collapse[setting]['inverse']), LOSS_DECIMALS)}"
        for setting, label in COLLAPSE_TABLE1
    )
    fig1 = " / ".join(
        num(statistics.mean(collapse[setting]), LOSS_DECIMALS) for setting in COLLAPSE_FIG1
    )
    return [
        (f"002 Table 1, L_CL trained vs f = g⁻¹ ({n_seeds} seeds)", table1),
        ("002 Fig. 1, effective rank of linear W (d_c = 0 / 1 / 1 with τ_c = 0.2)", fig1),
    ]


def claims_rows(claims: dict[str, int] | None) -> list[tuple[str, str]]:
    if claims is None:
        return []
    counts = ", ".join(f"{claims.get(verdict, 0)} {verdict}" for verdict in VERDICTS)
    total = sum(claims.get(verdict, 0) for verdict in VERDICTS)
    return [(f"claims ({total} rows of the report's verdict overview)", counts)]


def replication_rows(snap: dict[str, Any]) -> list[tuple[str, ...]]:
    """Per paper and for all: the verdict counts, the share decided and the unstable rows."""
    rows = []
    for paper, counts in snap["papers"].items():
        total = sum(counts[verdict] for verdict in VERDICTS)
        decided = sum(counts[verdict] for verdict in DECIDED)
        rows.append(
            (
                "all papers" if paper == ALL_PAPERS else paper,
                *(str(counts[verdict]) for verdict in VERDICTS),
                f"{decided} of {total} ({pct(decided / total)} %)",
                str(counts.get(UNSTABLE, 0)),
            )
        )
    return rows


def undecided_rows(snap: dict[str, Any]) -> list[tuple[str, str, str]]:
    """Inconclusive rows per reason (:data:`WHY_GROUPS` order), with the projected seeds."""
    order = [label for label, _ in WHY_GROUPS] + [OTHER_WHY]
    rows = []
    for label in sorted(snap["undecided"], key=order.index):
        numbers = sorted(n for n in snap["undecided"][label] if n is not None)
        projected = ", ".join(f"{n:,}" for n in numbers) if numbers else MISSING
        rows.append((label, str(len(snap["undecided"][label])), projected))
    return rows


def replication_caption(snap: dict[str, Any]) -> str:
    linear = snap["baseline_linear"]
    accuracies = " / ".join(f"{pct(value)} %" for value in linear.values())
    runs = invocation_spans(snap["invocations"], 0)
    return (
        f"Snakemake invocations: {runs}; baseline SimCLR linear probe {accuracies} on seeds"
        f" {', '.join(linear)}."
    )


def percent_cell(value: float | None) -> str:
    return MISSING if value is None else f"{pct(value)} %"


def all_methods_rows(snap: dict[str, Any]) -> list[tuple[str, ...]]:
    rows = []
    for method, label in METHODS:
        numbers = snap["methods"][method]
        qscore = numbers.get("qscore")
        seconds = numbers.get("pretrain_seconds")
        rows.append(
            (
                label,
                percent_cell(numbers.get("linear")),
                percent_cell(numbers.get("knn")),
                MISSING if qscore is None else f"{num(qscore['auroc'])} / {num(qscore['auprc'])}",
                MISSING
                if seconds is None
                else f"{seconds:,.0f} s ({numbers['fastest_epoch_seconds']:.1f} s)",
            )
        )
    return rows


def gpu_rows(snap: dict[str, Any]) -> list[tuple[str, ...]]:
    """Every method's in-loop and model-only views/s and the model step's TFLOP/s (share of
    the card's measured bf16 peak), then SimCLR's variants; a variant the run did not measure
    shows dashes, one that failed its error."""
    rows = {(r["method"], r["variant"], r.get("step")): r for r in snap["benchmark"]}

    def row(label: str, method: str, variant: str) -> tuple[str, ...]:
        if (method, variant, None) in rows:
            return (
                label,
                MISSING,
                MISSING,
                MISSING,
                f"failed: {rows[method, variant, None]['error']}",
            )
        if (method, variant, "in_loop") not in rows:
            return (label, MISSING, MISSING, MISSING, "not measured")
        in_loop, model = rows[method, variant, "in_loop"], rows[method, variant, "model"]
        return (
            label,
            f"{in_loop['views_per_s']:,.0f}",
            f"{model['views_per_s']:,.0f}",
            f"{model['tflops']:.0f} ({pct(model['share_of_peak'])} %)",
            in_loop["host_syncs"],
        )

    return [row(label, method, "pipeline") for method, label in METHODS] + [
        row(label, "simclr", variant) for variant, label in GPU_VARIANTS
    ]


def dag_jobs(jobs: dict[str, dict[str, float]]) -> str:
    """'pretrain 1 × 11.9 + 289.5 s; …': per rule, jobs × mean start-up + mean stage seconds."""
    return "; ".join(
        f"{rule} {t['jobs']:.0f} × {t['startup']:.1f} + {t['stage']:.1f} s"
        for rule, t in jobs.items()
    )


def gpu_dag_rows(snap: dict[str, Any]) -> list[tuple[str, str]]:
    cifar, tiny, steps = snap["cifar10"], snap["tiny_dag"], snap["steps"]
    tiny_setting = (
        f"{tiny['jobs_per_gpu']} jobs per GPU, job server {'on' if tiny['job_server'] else 'off'}"
        if "job_server" in tiny
        else "settings not recorded"
    )
    pretrain = cifar["jobs"]["pretrain"]["stage"]
    views = cifar["epochs"] * CIFAR10_TRAIN_IMAGES * VIEWS_PER_IMAGE
    return [
        (
            f"SimCLR on all of CIFAR-10, {cifar['epochs']} epochs: prepare → probe (wall);"
            " pretraining stage",
            f"{steps['cifar10']['seconds']} s; {pretrain:.0f} s"
            f" ({views / pretrain / THOUSANDS:.1f} k views/s)",
        ),
        ("its linear probe / 20-NN", f"{pct(cifar['linear'])} % / {pct(cifar['knn'])} %"),
        ("its jobs: start-up (imports, device) + stage, mean s", dag_jobs(cifar["jobs"])),
        (
            f"tiny DAG (.test/config/test.yaml), {tiny_setting}: jobs done",
            f"{tiny['done']} of {tiny['total']} in {steps['tiny_dag']['seconds']} s"
            f" ({DAG_OUTCOMES.get(steps['tiny_dag']['exit'], 'stopped: a job failed')})",
        ),
        ("its jobs: start-up + stage, mean s", dag_jobs(tiny["jobs"])),
    ]


def render(name: str, snap: dict[str, Any]) -> str:
    """The Markdown of one README region: the stamp line, a blank line, the table."""
    if snap["kind"] == "default":
        body = table(
            ("default run, Trifeature shape, SimCLR seed 0", "value"), default_rows(snap), 1
        )
    elif snap["kind"] == CIFAR10:
        body = table(("CIFAR-10 at CPU scale, SimCLR seed 0", "value"), cifar10_rows(snap), 1)
    elif snap["kind"] == GPU:
        header = (
            "benchmarks/gpu.py, batch 512",
            "in-loop views/s",
            "model views/s",
            f"model TFLOP/s (of {snap['peak_tflops']:.0f})",
            "host syncs in a step",
        )
        body = table(header, gpu_rows(snap), 1) + "\n\n"
        body += table(("through the DAG", "value"), gpu_dag_rows(snap), 1)
    elif snap["kind"] == "replication":
        header = ("paper", *VERDICTS, "decided", "seeds disagree (unstable)")
        body = replication_caption(snap) + "\n\n" + table(header, replication_rows(snap), 1)
        if snap.get("undecided"):
            why = ("why an inconclusive row is undecided", "rows", "seeds (or pairs) projected")
            body += "\n\n" + table(why, undecided_rows(snap), 1)
    else:
        header = (
            "method",
            "linear probe",
            "20-NN",
            "Q-Score AUROC / AUPRC",
            "pretraining (fastest epoch)",
        )
        body = table(header, all_methods_rows(snap), 1)
    return f"{stamp(name, snap['provenance'])}\n\n{body}\n"


# --- the summary of several snapshots ------------------------------------------------------

#: The README's verdicts at a glance, one row per scale: (scale, snapshot, what ran, the file
#: that holds the run's own tables, relative to the README, decimals of its wall time's minutes
#: as its own table shows them).
GLANCE_ROWS = (
    ("CPU default", "default", "`config/config.yaml`, seed 0", "docs/results/default.md", 1),
    (
        "CPU replication",
        "replication",
        "`config/replication_cpu.yaml`, seeds 0–2",
        "docs/results/replication.md",
        0,
    ),
)
GLANCE = "glance"
#: Regions rendered from several snapshots rather than one: name → the snapshots it reads.
SUMMARIES = {GLANCE: tuple(row[1] for row in GLANCE_ROWS)}
FULL_COMMIT = re.compile(r"\b([0-9a-f]{7})[0-9a-f]{33}\b")


def short_commits(commit: str) -> str:
    """A provenance commit with every full hash cut to its 7-character form."""
    return FULL_COMMIT.sub(r"\1", commit)


def total_counts(snap: dict[str, Any]) -> dict[str, int]:
    """The verdict counts over all papers: a replication snapshot's "all" row, else its claims."""
    if "papers" in snap:
        return snap["papers"][ALL_PAPERS]
    return snap["claims"]


def glance(snapshots: dict[str, dict[str, Any]]) -> str:
    """The README's verdicts at a glance: per scale, the verdict counts of its latest run, the
    first invocation's wall time and where the run's own tables are."""
    rows = []
    for scale, name, ran, details, decimals in GLANCE_ROWS:
        snap = snapshots[name]
        counts = total_counts(snap)
        total = sum(counts.get(verdict, 0) for verdict in VERDICTS)
        decided = sum(counts.get(verdict, 0) for verdict in DECIDED)
        runs = snap.get("invocations") or []
        first = invocation_spans(runs[:1], decimals) if runs else NOT_RECORDED
        provenance = snap["provenance"]
        measured = (
            f"{provenance['date']}, {provenance['machine']}, commit"
            f" {short_commits(provenance['commit'])}"
        )
        rows.append(
            (
                scale,
                ran,
                measured,
                f"[{Path(details).name}]({details})",
                first,
                *(str(counts.get(verdict, 0)) for verdict in VERDICTS),
                f"{decided} of {total}",
            )
        )
    header = ("scale", "run", "measured", "details", "wall time", *VERDICTS, "decided")
    sources = ", ".join(f"docs/snapshots/{name}.json" for name in SUMMARIES[GLANCE])
    return f"Generated by {SCRIPT} from {sources}\n\n{table(header, rows, 4)}\n"


def rendered(name: str, snapshots: Path) -> str:
    """The Markdown of region ``name``: its snapshot's render, or a summary of several."""
    if name in SUMMARIES:
        return glance({snap: load_snapshot(snap, snapshots) for snap in SUMMARIES[name]})
    return render(name, load_snapshot(name, snapshots))


# --- the documents -------------------------------------------------------------------------

REGION_START = re.compile(r"<!-- figures:([\w-]+) -->")


def documents(root: Path = REPO) -> list[Path]:
    """The files that hold generated regions: README.md and docs/results/*.md."""
    return [root / "README.md", *sorted((root / "docs" / "results").glob("*.md"))]


def shown(path: Path) -> str:
    """A document's path as a message names it: relative to the repository where it is inside."""
    try:
        return str(path.resolve().relative_to(REPO))
    except ValueError:
        return str(path)


def region_pattern(name: str) -> re.Pattern[str]:
    return re.compile(
        rf"(<!-- figures:{re.escape(name)} -->\n)(.*?)(<!-- /figures:{re.escape(name)} -->)",
        re.DOTALL,
    )


def load_snapshot(name: str, snapshots: Path) -> dict[str, Any]:
    return json.loads((snapshots / f"{name}.json").read_text())


def names_of(names: list[str], snapshots: Path) -> list[str]:
    return names or sorted(path.stem for path in snapshots.glob("*.json")) + sorted(SUMMARIES)


def holders(name: str, texts: dict[Path, str]) -> list[Path]:
    """The documents that hold region ``name``."""
    return [path for path, text in texts.items() if region_pattern(name).search(text)]


def update(docs: list[Path], snapshots: Path, names: list[str]) -> None:
    texts = {path: path.read_text() for path in docs}
    for name in names_of(names, snapshots):
        found = holders(name, texts)
        if not found:
            where = ", ".join(shown(path) for path in docs)
            raise SystemExit(f"no document has region <!-- figures:{name} --> ({where})")
        text = rendered(name, snapshots)
        for path in found:
            texts[path] = region_pattern(name).sub(
                lambda m, r=text: m.group(1) + r + m.group(3), texts[path]
            )
    for path, text in texts.items():
        if text != path.read_text():
            path.write_text(text)


def stale_regions(docs: list[Path], snapshots: Path, names: list[str]) -> list[str]:
    """One line per region whose text is not its render, is in no document, or (no names
    given) has no snapshot."""
    texts = {path: path.read_text() for path in docs}
    known = names_of(names, snapshots)
    stale = []
    for name in known:
        found = holders(name, texts)
        if not found:
            stale.append(f"no document has region <!-- figures:{name} -->")
            continue
        text = rendered(name, snapshots)
        for path in found:
            if region_pattern(name).search(texts[path]).group(2) != text:
                stale.append(
                    f"{shown(path)} region <!-- figures:{name} --> differs from {SCRIPT}"
                    f" render {name}"
                )
    if not names:
        for path, text in texts.items():
            for name in sorted(set(REGION_START.findall(text)) - set(known)):
                stale.append(
                    f"{shown(path)} region <!-- figures:{name} --> has no snapshot"
                    f" docs/snapshots/{name}.json"
                )
    return stale


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--doc",
        "--readme",
        dest="docs",
        type=Path,
        action="append",
        help="a document holding regions (repeatable; default README.md and docs/results/*.md)",
    )
    parser.add_argument("--snapshots", type=Path, default=SNAPSHOTS)
    commands = parser.add_subparsers(dest="command", required=True)
    take = commands.add_parser("snapshot", help="write docs/snapshots/NAME.json from a run")
    take.add_argument("run", type=Path, help="the run's directory (holds results/, reports/)")
    take.add_argument("--kind", choices=KINDS, required=True)
    take.add_argument("--name", help="snapshot name (default: the kind)")
    take.add_argument(
        "--code-commit", help="the project commit the run directory is a copy of, if not a clone"
    )
    show = commands.add_parser("render", help="print a snapshot's or a summary's Markdown")
    show.add_argument("name")
    for command in ("update", "check"):
        commands.add_parser(command).add_argument("names", nargs="*")
    args = parser.parse_args(argv)
    docs = args.docs or documents()

    if args.command == "snapshot":
        name = args.name or args.kind
        args.snapshots.mkdir(parents=True, exist_ok=True)
        out = args.snapshots / f"{name}.json"
        taken = snapshot(args.run, args.kind, args.code_commit)
        out.write_text(json.dumps(taken, indent=1, sort_keys=True) + "\n")
        print(f"wrote {out}")
    elif args.command == "render":
        print(rendered(args.name, args.snapshots), end="")
    elif args.command == "update":
        update(docs, args.snapshots, args.names)
    else:
        stale = stale_regions(docs, args.snapshots, args.names)
        for line in stale:
            print(line)
        return 1 if stale else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
