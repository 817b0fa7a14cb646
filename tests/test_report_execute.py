"""Report notebooks run on Jupyter kernels over Unix sockets in private directories
(sslbench.report.execute): two pages started side by side cannot race for a TCP port, each gets
its parameters as raw strings, and no endpoint directory is left behind."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat

from sslbench.report.execute import IPC_DIR_PREFIX

REPO = Path(__file__).resolve().parents[1]

PROBE = nbformat.v4.new_notebook(
    cells=[
        nbformat.v4.new_code_cell('name = ""', metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell(
            "import json, pathlib\n"
            "from ipykernel.connect import get_connection_info\n"
            "info = json.loads(get_connection_info())\n"
            "pathlib.Path(f'{name}.json').write_text(\n"
            "    json.dumps({'name': name, 'transport': info['transport'], 'ip': info['ip']})\n"
            ")"
        ),
    ],
    # the kernel the report's own notebooks name
    metadata=nbformat.read(REPO / "workflow/notebooks/index.ipynb", as_version=4).metadata,
)


def test_pages_side_by_side_run_on_private_ipc_endpoints(tmp_path: Path) -> None:
    nbformat.write(PROBE, tmp_path / "probe.ipynb")
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = os.environ | {"TMPDIR": str(scratch)}
    names = ("1e3", "page_b")  # "1e3" must stay a string (papermill's -p would read 1000.0)
    pages = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "sslbench.report.execute",
                "probe.ipynb",
                f"out_{i}.ipynb",
                "-r",
                "name",
                name,
                "--cwd",
                ".",
            ],
            cwd=tmp_path,
            env=env,
            stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        for i, name in enumerate(names)
    ]
    for page in pages:
        _, err = page.communicate(timeout=300)
        assert page.returncode == 0, err[-3000:]
    seen = [json.loads((tmp_path / f"{name}.json").read_text()) for name in names]
    assert [s["name"] for s in seen] == list(names)
    assert {s["transport"] for s in seen} == {"ipc"}
    assert all(Path(s["ip"]).parent.name.startswith(IPC_DIR_PREFIX) for s in seen)
    assert all(Path(s["ip"]).parent.parent == scratch for s in seen)
    assert seen[0]["ip"] != seen[1]["ip"]
    assert not list(scratch.glob(f"{IPC_DIR_PREFIX}*"))  # endpoints removed afterwards
    executed = nbformat.read(tmp_path / "out_0.ipynb", as_version=4)
    assert executed.cells[-1].execution_count is not None  # papermill wrote the executed copy
