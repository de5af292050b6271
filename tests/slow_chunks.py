"""The ``sim`` command with every chunk of replications slowed down, for the tests that
stop a run from outside (Ctrl-C, kill -9) part way through.

A run of the tests' size takes a second or two; on a fast machine it can finish between
the moment a test sees its first chunk saved and the moment the signal arrives, and the
test then checks nothing. Each chunk here waits first, so the run lasts long enough for
the signal to land in the middle of it, on any machine. The replications themselves are
untouched, so the tables still equal an uninterrupted run's.

Run as ``python -c "import slow_chunks; slow_chunks.main()" run ...`` with this folder on
``PYTHONPATH``: the pool's workers (fresh interpreters) then find :func:`run_chunk` here
by name, as they find :func:`sim.model.engine.run_chunk` in a real run.
"""

from __future__ import annotations

import time
from typing import Any

import sim.experiment.executors
from sim.__main__ import main as sim_main
from sim.model.engine import run_chunk as engine_run_chunk

WAIT_SECONDS = 0.5


def run_chunk(*args: Any) -> Any:
    time.sleep(WAIT_SECONDS)
    return engine_run_chunk(*args)


def main() -> None:
    sim.experiment.executors.run_chunk = run_chunk
    sim_main()
