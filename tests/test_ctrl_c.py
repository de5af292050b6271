"""Ctrl-C at any moment ends a command without a traceback: while the command line loads,
and while the worker processes of a run start (each worker imports the engine then)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from conftest import BASELINE, hears_ctrl_c

pytestmark = pytest.mark.skipif(not hasattr(os, "killpg"), reason="process groups are POSIX")


def _start(tmp_path: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "sim", "run", str(BASELINE), "--runs", "400", "--workers", "2", "--chunk-size", "5",
                             "--out", str(tmp_path / "run")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True,
                            preexec_fn=hears_ctrl_c)


def _interrupt(p: subprocess.Popen) -> tuple[int, str]:
    """Ctrl-C, as the terminal sends it (to the command and its workers), pressed again
    after a while if the command has not stopped. Chunks are small, so a run that heard
    stops at once."""
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


# Each case waits out a command's start-up (about 25 s on two cores); the default suite keeps
# the middle one, ``pytest -m slow`` runs the early and the late.
@pytest.mark.parametrize("after", [pytest.param(0.3, marks=pytest.mark.slow), 0.6,
                                   pytest.param(0.9, marks=pytest.mark.slow)])
def test_ctrl_c_while_the_command_line_loads(tmp_path, after):
    """Whenever it lands in the imports (some pass through numpy's and scipy's ``exec``
    calls, after which ``python -m`` ended killed by the signal, status -2), the command
    ends with the status for Ctrl-C and one line."""
    p = _start(tmp_path)
    time.sleep(after)
    code, err = _interrupt(p)
    assert code == 130 and "Traceback" not in err, err
    assert err.strip() in ("Interrupted.", "") or err.startswith("Interrupted"), err


@pytest.mark.skipif(not hasattr(signal, "pthread_sigmask"), reason="needs signal masks")
def test_ctrl_c_while_workers_are_started_is_held_not_lost(tmp_path):
    """In the milliseconds while worker processes are started, Ctrl-C is held back (a
    worker must not hear it while it imports) and arrives when they end; a process
    started meanwhile starts with it held.

    The press is sent to the process, as a terminal sends it, so the kernel may hand it to
    one of the numerical libraries' threads; it then arrives when that thread next runs,
    which on a busy machine can be a moment after the window closes. The wait after the
    window is cut short by the arrival, and a press that was lost fails the check."""
    script = tmp_path / "held.py"
    script.write_text(textwrap.dedent("""
        import os, signal, subprocess, sys, time
        from sim.experiment.executors import _ctrl_c_held
        try:
            with _ctrl_c_held():
                child = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"],
                                         stdin=subprocess.PIPE)
                os.kill(os.getpid(), signal.SIGINT)
                print("held", flush=True)
            time.sleep(20)
            print("lost", flush=True)
        except KeyboardInterrupt:
            print("arrived", flush=True)
        status = open(f"/proc/{child.pid}/status").read() if os.path.exists("/proc") else ""
        blocked = [int(line.split()[1], 16) for line in status.splitlines() if line.startswith("SigBlk:")]
        print("child holds it" if blocked and blocked[0] & (1 << (signal.SIGINT - 1)) else "child does not", flush=True)
        child.communicate(b"")
    """))
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60,
                         preexec_fn=hears_ctrl_c)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.split()
    assert lines[:2] == ["held", "arrived"], out.stdout
    if Path("/proc/self/status").exists():
        assert "child holds it" in out.stdout, out.stdout


@pytest.mark.slow  # about 23 s; the case above holds a Ctrl-C at the same moment in the default suite
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
