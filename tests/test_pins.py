"""requirements.txt, environment.yml and workflow/envs/*.yaml must name the same versions."""

import re

import yaml


def _pins(lines):
    pins = {}
    for line in lines:
        m = re.fullmatch(r"\s*([A-Za-z0-9_.-]+)==([^\s#]+)\s*", line)
        if m:
            pins[m.group(1).lower()] = m.group(2)
    return pins


def _conda_pins(path):
    env = yaml.safe_load(path.read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
    return _pins(pip)


def test_conda_envs_match_requirements(repo):
    required = _pins((repo / "requirements.txt").read_text().splitlines())
    assert {"torch", "torchvision", "mlflow", "snakemake"} <= set(required), "unpinned"
    envs = [repo / "environment.yml", *sorted((repo / "workflow" / "envs").glob("*.yaml"))]
    assert len(envs) >= 2
    for env in envs:
        assert _conda_pins(env) == required, env


def test_installed_versions_match_the_pins(repo):
    from importlib.metadata import version

    for name, pinned in _pins((repo / "requirements.txt").read_text().splitlines()).items():
        assert version(name) == pinned, name
