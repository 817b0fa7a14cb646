"""A warm interpreter for the DAG's jobs (config key ``compute.job_server``, issue 19).

Each Snakemake job is a fresh ``python -m sslbench.cli STAGE …``, and importing torch, MLflow,
lightly and scikit-learn costs more than many jobs' own work: on an H100 node the tiny DAG's jobs
spent ~16 s starting (GPU jobs) or ~8 s (CPU jobs) against 1–9 s of work. The job server imports
every stage once, then forks one child per job: ``sslbench.cli`` sees ``SSLBENCH_JOB_SERVER``
(set by the workflow's ``onstart``), hands the server its arguments, working directory,
environment and standard streams (the job's log file, passed as file descriptors), forwards
the signals it receives to the child and exits with the child's exit status. Where no server
answers (none started, another node of a cluster, the server gone) the job runs in its own
process as before.

The server never touches CUDA or starts threads, so a child may open its own GPU: forking after
CUDA was initialised, or while another thread holds a lock, would not be safe. It is single
threaded, kills a job whose client went away, and exits when the Snakemake process that
started it is gone or asks it to stop.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import selectors
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any, NoReturn

ENV = "SSLBENCH_JOB_SERVER"
HEADER = struct.Struct("!Q")  # length of the JSON request that follows the header
STREAMS = (0, 1, 2)  # stdin, stdout, stderr: handed to the child as they are
POLL_SECONDS = 1.0  # how often the loop checks that the Snakemake run is still there
WAKE_BYTES = 4096
REQUEST_TIMEOUT_SECONDS = 10.0
SIGNAL_EXIT_BASE = 128  # a shell's exit status of a job killed by signal N is 128 + N
FORWARDED_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)

log = logging.getLogger("sslbench.jobserver")


# --- the client: one per job, inside sslbench.cli ---------------------------------------------


def run_served(argv: list[str]) -> int | None:
    """Run ``sslbench.cli argv`` in a child of the job server named by ``SSLBENCH_JOB_SERVER``
    and return its exit status; None when no server takes the job (run it here instead)."""
    path = os.environ.get(ENV)
    if not path:
        return None
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(path)
        payload = json.dumps({"argv": argv, "cwd": os.getcwd(), "env": dict(os.environ)}).encode()
        socket.send_fds(sock, [HEADER.pack(len(payload))], list(STREAMS))
        sock.sendall(payload)
        replies = sock.makefile("r")
        started = replies.readline()
    except OSError:
        sock.close()
        return None
    if not started:
        sock.close()
        return None  # the server refused or died before forking: nothing ran yet
    child = json.loads(started)["pid"]
    for signum in FORWARDED_SIGNALS:
        signal.signal(signum, lambda signum, _frame: _forward(child, signum))
    with sock:
        finished = replies.readline()
    if not finished:
        print(f"sslbench: the job server ({path}) went away during the job", file=sys.stderr)
        return 1
    return int(json.loads(finished)["exit"])


def _forward(child: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(child, signum)


# --- the server --------------------------------------------------------------------------------


def default_socket_path(owner_pid: int) -> Path:
    """The socket of the server started by process ``owner_pid`` (the Snakemake run)."""
    return Path(tempfile.gettempdir()) / f"sslbench-jobs-{os.getuid()}-{owner_pid}.sock"


def preload() -> dict[str, str]:
    """Import every stage (what each job would import), check that CUDA was not initialised,
    and return the environment variables the imports set (children get them back)."""
    before = dict(os.environ)
    from sslbench import cli

    for stage in cli.STAGES:
        cli._stage_function(stage)
    import torch

    if torch.cuda.is_initialized():
        raise RuntimeError("importing the stages initialised CUDA: children could not fork")
    return {k: v for k, v in os.environ.items() if before.get(k) != v}


def serve(path: Path, owner_pid: int) -> None:
    """Serve jobs on the Unix socket ``path`` until asked to stop or ``owner_pid`` is gone."""
    defaults = preload()
    path.unlink(missing_ok=True)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(path))
    listener.listen(64)
    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ)
    wake, waker = socket.socketpair()  # a finished child wakes the loop at once (SIGCHLD)
    waker.setblocking(False)
    signal.set_wakeup_fd(waker.fileno())
    signal.signal(signal.SIGCHLD, lambda _signum, _frame: None)
    selector.register(wake, selectors.EVENT_READ)
    jobs: dict[int, socket.socket] = {}  # child pid → its client's connection
    log.info("serving jobs on %s for process %d", path, owner_pid)
    stopping = False
    try:
        while not (stopping and not jobs) and (jobs or _alive(owner_pid)):
            for key, _ in selector.select(POLL_SECONDS):
                if key.fileobj is wake:
                    wake.recv(WAKE_BYTES)
                elif key.fileobj is listener:
                    stopping |= _accept(listener, selector, jobs, defaults)
                else:
                    _client_gone(key.fileobj, selector, jobs)
            _reap(selector, jobs)
    finally:
        listener.close()
        path.unlink(missing_ok=True)
        log.info("job server on %s stopped", path)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _accept(
    listener: socket.socket,
    selector: selectors.BaseSelector,
    jobs: dict[int, socket.socket],
    defaults: dict[str, str],
) -> bool:
    """Take one request: fork its job (False), or a request to stop (True)."""
    conn, _ = listener.accept()
    conn.settimeout(REQUEST_TIMEOUT_SECONDS)
    try:
        request, fds = _read_request(conn)
    except (OSError, ValueError) as err:
        log.warning("dropped a malformed request: %s", err)
        conn.close()
        return False
    if request.get("stop"):
        for fd in fds:
            os.close(fd)
        conn.close()
        return True
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        _close_inherited(selector)
        conn.close()
        _run_job(request, fds, defaults)
    for fd in fds:
        os.close(fd)
    conn.sendall(json.dumps({"pid": pid}).encode() + b"\n")
    jobs[pid] = conn
    selector.register(conn, selectors.EVENT_READ, pid)
    log.info("job %d: %s", pid, " ".join(request["argv"][:1]))
    return False


def _close_inherited(selector: selectors.BaseSelector) -> None:
    """In a child: close the loop's waker and every socket the loop watches (not the job's).

    A descriptor already closed is skipped: on a GPU node (Python 3.12, torch 2.11) one child
    of ~13 found the waker's descriptor closed before its first line ran (EBADF), which killed
    its job."""
    waker = signal.set_wakeup_fd(-1)
    if waker >= 0:
        with contextlib.suppress(OSError):
            os.close(waker)
    for inherited in list(selector.get_map().values()):
        with contextlib.suppress(OSError):
            inherited.fileobj.close()


def _read_request(conn: socket.socket) -> tuple[dict[str, Any], list[int]]:
    header, fds, _, _ = socket.recv_fds(conn, HEADER.size, len(STREAMS))
    if len(header) != HEADER.size or len(fds) != len(STREAMS):
        for fd in fds:
            os.close(fd)
        raise ValueError("no header with the job's three standard streams")
    (size,) = HEADER.unpack(header)
    payload = b""
    while len(payload) < size:
        chunk = conn.recv(size - len(payload))
        if not chunk:
            raise ValueError("request cut short")
        payload += chunk
    return json.loads(payload), fds


def _run_job(request: dict[str, Any], fds: list[int], defaults: dict[str, str]) -> NoReturn:
    """In the forked child: become the job (its streams, directory, environment) and run it."""
    code = 1
    try:
        for signum in (*FORWARDED_SIGNALS, signal.SIGCHLD):
            signal.signal(signum, signal.SIG_DFL)
        for target, fd in zip(STREAMS, fds, strict=True):
            os.dup2(fd, target)
            os.close(fd)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(defaults | request["env"])
        os.environ.pop(ENV, None)
        from sslbench import cli

        sys.argv = [cli.__file__, *request["argv"]]  # as in its own process (MLflow's source)
        code = cli.main(request["argv"], started=time.perf_counter())
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else int(exit_.code is not None)
    except BaseException:  # noqa: BLE001  (the job's own crash: its log gets the traceback)
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def _client_gone(
    conn: socket.socket, selector: selectors.BaseSelector, jobs: dict[int, socket.socket]
) -> None:
    """A client closed its connection before its job ended (killed): stop the job."""
    pid = selector.get_key(conn).data
    selector.unregister(conn)
    log.info("job %d: its client went away; terminating it", pid)
    _forward(pid, signal.SIGTERM)


def _reap(selector: selectors.BaseSelector, jobs: dict[int, socket.socket]) -> None:
    """Collect finished children and tell each client its job's exit status."""
    while jobs:
        pid, status = os.waitpid(-1, os.WNOHANG)
        if pid == 0:
            return
        code = os.waitstatus_to_exitcode(status)
        code = SIGNAL_EXIT_BASE - code if code < 0 else code
        conn = jobs.pop(pid)
        with contextlib.suppress(KeyError):  # not registered once its client went away
            selector.unregister(conn)
        with contextlib.suppress(OSError):  # the client may be gone
            conn.sendall(json.dumps({"exit": code}).encode() + b"\n")
        conn.close()
        log.info("job %d exited with %d", pid, code)


# --- starting and stopping it from the workflow -------------------------------------------------


def start(log_path: Path) -> Path:
    """Start a job server for this process (the Snakemake run) and return its socket path;
    jobs that start before it has imported everything run on their own."""
    path = default_socket_path(os.getpid())
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "a") as out:
        subprocess.Popen(  # noqa: S603  (our own interpreter and module)
            [sys.executable, "-m", "sslbench.jobserver", str(path), str(os.getpid())],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return path


def stop(path: Path) -> None:
    """Ask the server on ``path`` to stop once its running jobs have ended (no-op if gone)."""
    payload = json.dumps({"stop": True}).encode()
    with (
        socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock,
        contextlib.suppress(OSError),
    ):
        sock.connect(str(path))
        socket.send_fds(sock, [HEADER.pack(len(payload))], list(STREAMS))
        sock.sendall(payload)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="sslbench.jobserver", description=__doc__.split("\n")[0])
    parser.add_argument("socket", type=Path)
    parser.add_argument("owner_pid", type=int, help="exit when this process is gone")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s", force=True
    )
    serve(args.socket, args.owner_pid)
    return 0


if __name__ == "__main__":
    sys.exit(main())
