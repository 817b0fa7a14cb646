"""Checkpoints load with weights_only=True, no config string reaches a shell unquoted, and the
MLflow UI helper binds to 127.0.0.1 unless told otherwise."""

from __future__ import annotations

import ast
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import torch

from sslbench.stages.common import load_model
from sslbench.ui import mlflow_command

pytestmark = pytest.mark.reliability


class Payload:
    """Stands for arbitrary pickled code inside a malicious checkpoint."""


def test_every_torch_load_in_the_package_is_weights_only(repo):
    calls = []
    for path in (repo / "src" / "sslbench").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and ast.unparse(node.func) == "torch.load":
                calls.append((path.name, {k.arg: ast.unparse(k.value) for k in node.keywords}))
    assert calls
    assert all(kw.get("weights_only") == "True" for _, kw in calls), calls


def test_a_checkpoint_with_pickled_objects_is_refused(tmp_path):
    path = tmp_path / "model.pt"
    torch.save({"params": {}, "state_dict": {}, "payload": Payload()}, path)
    with pytest.raises(Exception, match="[Ww]eights only load failed"):
        load_model(path)


def test_every_shell_placeholder_is_quoted(repo):
    placeholder = re.compile(r"(?<!\{)\{([^{}]+)\}(?!\})")
    for rule_file in (repo / "workflow" / "rules").glob("*.smk"):
        text = rule_file.read_text()
        for block in re.findall(r"shell:\n((?:\s+[\"'].*\n)+)", text):
            for name in placeholder.findall(block):
                assert name == "threads" or name.endswith(":q"), (rule_file.name, name)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _listening_addresses(port: int) -> set[str]:
    """Local IPv4 addresses with a socket listening on ``port`` (from /proc/net/tcp)."""
    found = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        local, state = line.split()[1], line.split()[3]
        address, hex_port = local.split(":")
        if int(hex_port, 16) == port and state == "0A":
            found.add(socket.inet_ntoa(bytes.fromhex(address)[::-1]))
    return found


def test_ui_helper_binds_to_loopback_by_default(tmp_path):
    assert "127.0.0.1" in mlflow_command("sqlite:///x.db", "127.0.0.1", 5000)
    port = _free_port()
    env = {**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sslbench.ui",
            "--store",
            f"sqlite:///{tmp_path / 'm.db'}",
            "--port",
            str(port),
        ],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as r:
                    assert r.status == 200
                    break
            except OSError:
                assert proc.poll() is None, "the UI exited"
                time.sleep(0.5)
        else:
            pytest.fail("the MLflow UI did not answer within 120 s")
        assert _listening_addresses(port) == {"127.0.0.1"}
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(timeout=30)
