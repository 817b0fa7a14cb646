"""Config validation: JSON-schema checks plus the cross-references a schema cannot express.

Every error names the config key and what is allowed, and all errors are reported together
before any job starts.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from sslbench.synthetic.settings import DEFAULTS, EXPERIMENT_DEFAULTS

SQLITE_PREFIX = "sqlite:///"
# Fine-tuning protocols of the baseline, each a config block of its own with its `runs`: 001's
# (`finetune`: Q-Score v2, lr 1e-5, 50 epochs) and 000's (`finetune000`: Q-Score v1 eq. 4,
# LARS lr 0.01, trained until the losses converge). Every fine-tuned method also gets the
# protocol's unregularised control.
FINETUNE_PROTOCOLS = ("finetune", "finetune000")
# Config blocks whose `runs` table (regulariser -> methods) adds trained models to the DAG.
RUN_TABLES = (*FINETUNE_PROTOCOLS, "scratch")


class ConfigError(ValueError):
    """The config is invalid; the message lists every problem, one per line."""


def _key(path: Any) -> str:
    return ".".join(str(p) for p in path) or "(top level)"


def _describe(error: jsonschema.ValidationError) -> str:
    if error.validator == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        extra = sorted(set(error.instance) - set(allowed))
        where = _key(error.absolute_path)
        hint = f"; allowed keys: {', '.join(allowed)}" if allowed else ""
        return f"config key {where}: unknown key(s) {', '.join(map(repr, extra))}{hint}"
    if error.validator == "enum":
        return (
            f"config key {_key(error.absolute_path)}: {error.instance!r} is not allowed; "
            f"allowed values: {', '.join(map(repr, error.validator_value))}"
        )
    if error.validator == "not" and isinstance(error.instance, Mapping):
        return (
            f"config key {_key(error.absolute_path)}: has keys that do not apply to its source "
            f"{error.instance.get('source')!r}"
        )
    if error.validator == "not":  # a null block: the same message as its type error
        return f"config key {_key(error.absolute_path)}: {error.instance!r} is not of type 'object'"
    expected = error.schema.get("description") if isinstance(error.schema, Mapping) else None
    hint = f" (expected {expected})" if expected and error.validator == "pattern" else ""
    return f"config key {_key(error.absolute_path)}: {error.message}{hint}"


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that refuses a mapping key given twice (PyYAML keeps the last silently)."""


def _unique_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    first_line: dict[Any, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        line = key_node.start_mark.line + 1
        if key in first_line:
            raise ConfigError(
                f"config file {loader.name}, line {line}: key {key!r} is given twice (first on "
                f"line {first_line[key]}); keep one"
            )
        first_line[key] = line
    return loader.construct_mapping(node)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _unique_mapping)


def merged_config(base: Mapping[str, Any], *overrides: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` with each override merged in as ``--configfile`` layers config files: Snakemake's
    own rule (``snakemake.utils.update_config``: dicts merge key by key, anything else
    replaces). The inputs are left unchanged."""
    from snakemake.utils import update_config  # imported only where configs are layered

    config = copy.deepcopy(dict(base))
    for override in overrides:
        update_config(config, copy.deepcopy(dict(override)))
    return config


def layered_config(paths: Iterable[Path]) -> dict[str, Any]:
    """The config Snakemake sees for ``--configfile <paths>``, in order."""
    return merged_config({}, *(yaml.safe_load(Path(path).read_text()) for path in paths))


def check_config_file(path: Path) -> None:
    """Raise :class:`ConfigError` naming ``path`` if a mapping in it repeats a key."""
    with open(path, encoding="utf-8") as stream:
        yaml.load(stream, Loader=_UniqueKeyLoader)  # noqa: S506 (a SafeLoader subclass)


def schema_errors(config: Mapping[str, Any], schema: Mapping[str, Any]) -> list[str]:
    """Schema violations of ``config``, one message per violation (deepest first)."""
    validator = jsonschema.Draft7Validator(schema)
    errors = []
    for error in sorted(validator.iter_errors(config), key=lambda e: list(e.absolute_path)):
        leaves = [error]
        if error.context:  # if/then/allOf: report the concrete failures inside
            leaves = sorted(error.context, key=lambda e: -len(e.absolute_path))[:1]
        errors.extend(_describe(e) for e in leaves)
    return list(dict.fromkeys(errors))


def reference_errors(config: Mapping[str, Any]) -> list[str]:
    """Cross-references: pretrain/suppression datasets are defined; percentiles ordered; an
    ImageFolder source exists unless its dataset is prepared already (``data_dir/<name>``
    holds its meta.json: the source is read only to prepare it, so a run's results moved to
    another machine render there without the images)."""
    errors = []
    datasets = config.get("datasets", {})
    for stage in ("pretrain", "suppression"):
        for name in config.get(stage, {}).get("datasets", []):
            if name not in datasets:
                errors.append(
                    f"config key {stage}.datasets: {name!r} is not defined under datasets; "
                    f"defined: {', '.join(sorted(datasets)) or 'none'}"
                )
    for name, spec in datasets.items():
        if not isinstance(spec, Mapping):
            continue
        key = {"imagefolder": "path", "torchvision": "image_folder"}.get(spec.get("source"))
        if key is None or (key == "image_folder" and key not in spec):
            continue
        path = Path(str(spec.get(key, "")))
        prepared = Path(str(config.get("data_dir", ""))) / name / "meta.json"
        if not path.is_dir() and not prepared.is_file():
            errors.append(
                f"config key datasets.{name}.{key}: {str(path)!r} is not a directory "
                "(expected an ImageFolder tree <path>/{train,test}/<class>/<image>)"
            )
    pretrained = set(config.get("pretrain", {}).get("methods", []))
    for protocol in RUN_TABLES:
        for reg, methods in config.get(protocol, {}).get("runs", {}).items():
            for method in sorted(set(methods) - pretrained):
                errors.append(
                    f"config key {protocol}.runs.{reg}: method {method!r} is not in "
                    f"pretrain.methods ({', '.join(sorted(pretrained))})"
                )
    q = config.get("analysis", {}).get("qscore", {})
    if q.get("lower_percentile", 0) > q.get("upper_percentile", 100):
        errors.append(
            "config key analysis.qscore.lower_percentile: must not exceed upper_percentile"
        )
    return errors


def variant_errors(config: Mapping[str, Any], schema: Mapping[str, Any]) -> list[str]:
    """Named regulariser variants (``regularisers.<name>: {kind: ...}``) used by finetune/scratch
    runs or the suppression sweep: defined, and combined only with what their kind allows."""
    errors = []
    regularisers = config.get("regularisers", {})
    for protocol in RUN_TABLES:
        allowed = schema["properties"][protocol]["properties"]["runs"]["properties"]
        for name, methods in config.get(protocol, {}).get("runs", {}).items():
            kind = regularisers.get(name, {}).get("kind")
            if name in allowed or not methods:  # an empty list trains nothing (a cleared run)
                continue
            if kind not in allowed:
                errors.append(
                    f"config key {protocol}.runs.{name}: unknown regulariser; use one of "
                    f"{', '.join(sorted(allowed))} or define a variant regularisers.{name} "
                    f"with a `kind` among them"
                )
                continue
            kind_schema = {**allowed[kind], "definitions": schema["definitions"]}
            for error in jsonschema.Draft7Validator(kind_schema).iter_errors(methods):
                errors.append(
                    f"config key {protocol}.runs.{name}: {error.message} "
                    f"(a variant of {kind!r}: {error.schema.get('description', '')})"
                )
    sweep_kinds = schema["definitions"]["sweep_regularisers"]["enum"]
    for name in config.get("suppression", {}).get("regularisers", []):
        if name not in sweep_kinds and regularisers.get(name, {}).get("kind") not in sweep_kinds:
            errors.append(
                f"config key suppression.regularisers: {name!r} is neither one of "
                f"{', '.join(sweep_kinds)} nor a variant regularisers.{name} of one of them"
            )
    return errors


def _train_sizes(config: Mapping[str, Any], names: list[str]) -> dict[str, int]:
    """``n_train`` of each named dataset whose train-set size the config fixes."""
    datasets = config["datasets"]
    return {n: datasets[n]["n_train"] for n in names if "n_train" in datasets.get(n, {})}


def data_size_errors(config: Mapping[str, Any]) -> list[str]:
    """Batch sizes and k-NN's k that the training sets (``n_train``) cannot fill."""
    pretrained = config["pretrain"]["datasets"]
    stages = {
        "pretrain": pretrained,
        **{p: pretrained if config[p]["runs"] else [] for p in FINETUNE_PROTOCOLS},
        "suppression": config["suppression"]["datasets"],
    }
    limits = [(f"{s}.batch_size", config[s]["batch_size"], names) for s, names in stages.items()]
    limits.append(("evaluation.knn.k", config["evaluation"]["knn"]["k"], pretrained))
    errors = []
    for key, value, names in limits:
        for name, size in _train_sizes(config, names).items():
            if value > size:
                errors.append(
                    f"config key {key}: {value} exceeds the {size} training images of dataset "
                    f"{name!r} (datasets.{name}.n_train); use at most {size}"
                )
    return errors


def _blocking_ancestor(path: Path) -> Path | None:
    """The nearest existing ancestor of ``path`` if it is not a directory (creation would fail)."""
    for parent in [path, *path.parents]:
        if parent.exists():
            return None if parent.is_dir() else parent
    return None


def path_errors(config: Mapping[str, Any]) -> list[str]:
    """Output folders and the SQLite store that cannot be created (a file in the way)."""
    tracking = config["tracking"]
    paths = {key: config[key] for key in ("data_dir", "results_dir", "reports_dir")}
    paths["tracking.artifact_root"] = tracking["artifact_root"]
    uri = tracking["tracking_uri"]
    if uri.startswith(SQLITE_PREFIX):
        paths["tracking.tracking_uri"] = str(Path(uri.removeprefix(SQLITE_PREFIX)).parent)
    errors = []
    for key, value in paths.items():
        blocker = _blocking_ancestor(Path(value))
        if blocker is not None:
            errors.append(
                f"config key {key}: {value!r} cannot be created because {str(blocker)!r} is "
                "not a directory; expected a path under a writable directory"
            )
    return errors


def collapse_errors(config: Mapping[str, Any]) -> list[str]:
    """002 settings whose content latents outnumber the latents (``dim`` or its default)."""
    errors = []
    for name, setting in config["collapse"]["settings"].items():
        dim = setting.get("dim", EXPERIMENT_DEFAULTS[setting["experiment"]]["dim"])
        content = setting.get("content_dims", DEFAULTS["content_dims"])
        if content > dim:
            errors.append(
                f"config key collapse.settings.{name}.content_dims: {content} exceeds its dim "
                f"({dim}); expected 0 <= content_dims <= dim"
            )
    return errors


def validate_config(config: Mapping[str, Any], schema_path: Path) -> None:
    """Raise :class:`ConfigError` listing every problem of ``config``.

    Cross-key checks run only on a config that passes the schema, so they may index freely.
    """
    schema = yaml.safe_load(Path(schema_path).read_text())
    errors = schema_errors(config, schema) or (
        reference_errors(config)
        + variant_errors(config, schema)
        + data_size_errors(config)
        + path_errors(config)
        + collapse_errors(config)
    )
    if errors:
        raise ConfigError("invalid config:\n  " + "\n  ".join(errors))
