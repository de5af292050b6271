"""Ctrl-C at any moment ends a command without a traceback: while the command line loads,
and while the worker processes of a run start (each worker imports the engine then)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from conftest import BASELINE

pytestmark = pytest.mark.skipif(not hasattr(os, "killpg"), reason="process groups are POSIX")


def _start(tmp_path: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "sim", "run", str(BASELINE), "--runs", "400", "--workers", "2", "--chunk-size", "5",
                             "--out", str(tmp_path / "run")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True)


def _interrupt(p: subprocess.Popen) -> tuple[int, str]:
    """Ctrl-C, as the terminal sends it (to the command and its workers), pressed again
    after a while if the command has not stopped (one pressed in the milliseconds while
    workers start is not heard). Chunks are small, so a run that heard stops at once."""
    err: list[str] = []
    reader = threading.Thread(target=lambda: err.extend(p.stderr), daemon=True)  # type: ignore[arg-type]
    reader.start()
    for _ in range(5):
        os.killpg(p.pid, signal.SIGINT)
        try:
            p.wait(timeout=30)
            break
        except subprocess.TimeoutExpired:
            continue
    reader.join(timeout=10)
    p.stderr.close()  # type: ignore[union-attr]
    return p.returncode, "".join(err)


def _workers_starting(pid: int) -> bool:
    """Whether a worker process of ``pid`` exists (it is importing until it takes work)."""
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return False
    for child in children:
        try:
            if b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes():
                return True
        except OSError:
            continue
    return False


def test_ctrl_c_while_the_command_line_loads(tmp_path):
    p = _start(tmp_path)
    time.sleep(0.3)
    code, err = _interrupt(p)
    assert code == 130 and "Traceback" not in err, err
    assert err.strip() in ("Interrupted.", "") or err.startswith("Interrupted"), err


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs /proc to see the workers start")
def test_ctrl_c_while_the_workers_start(tmp_path):
    p = _start(tmp_path)
    deadline = time.monotonic() + 60
    while not _workers_starting(p.pid) and time.monotonic() < deadline and p.poll() is None:
        time.sleep(0.005)
    assert p.poll() is None, "the run ended before its workers started"
    time.sleep(0.2)  # into the worker's imports (about a second)
    code, err = _interrupt(p)
    assert code == 130, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    assert "Finish the run with" in err
