"""The same run on every executor: the local pool, a Dask LocalCluster, and a real Dask
cluster (a scheduler and two worker processes on 127.0.0.1), bit for bit."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from conftest import BASELINE, baseline
from sim.experiment.results import ResultSet
from sim.experiment.runner import run_many

RUNS, SEED = 24, 7


@pytest.fixture(scope="module")
def reference():
    return run_many(baseline(), runs=RUNS, seed=SEED, workers=1)


def _same(tables, reference):
    pd.testing.assert_frame_equal(tables.outcomes, reference.outcomes, check_exact=True)
    pd.testing.assert_frame_equal(tables.timeseries, reference.timeseries, check_exact=True)


def test_dask_local_cluster_gives_the_same_tables(reference):
    tables = run_many(baseline(), runs=RUNS, seed=SEED, workers=2, chunk_size=5, executor="dask")
    _same(tables, reference)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def dask_cluster():
    """A Dask scheduler and two single-threaded workers, torn down afterwards."""
    dask = str(Path(sys.executable).with_name("dask"))
    address = f"tcp://127.0.0.1:{_free_port()}"
    port = address.rsplit(":", 1)[1]
    procs = [subprocess.Popen([dask, "scheduler", "--host", "127.0.0.1", "--port", port,
                               "--no-dashboard"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    try:
        for _ in range(2):
            procs.append(subprocess.Popen([dask, "worker", address, "--nworkers", "1", "--nthreads", "1",
                                           "--no-dashboard"],
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        from dask.distributed import Client

        with Client(address, timeout="30s") as client:
            client.wait_for_workers(2, timeout=60)
        yield address
    finally:
        for p in reversed(procs):
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


def test_a_real_dask_cluster_gives_the_same_tables(dask_cluster, reference, tmp_path):
    out = tmp_path / "run"
    began = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "sim", "run", str(BASELINE), "--runs", str(RUNS),
                           "--seed", str(SEED), "--chunk-size", "4", "--out", str(out), "--no-plots",
                           "--quiet", "--scheduler", dask_cluster],
                          capture_output=True, text=True, check=False, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert time.monotonic() - began < 300
    res = ResultSet.open(out)
    pd.testing.assert_frame_equal(res.outcomes, reference.outcomes, check_exact=True)
    pd.testing.assert_frame_equal(res.timeseries, reference.timeseries, check_exact=True)


def test_an_unreachable_scheduler_is_a_clear_error(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "sim", "run", str(BASELINE), "--runs", "2",
                           "--out", str(tmp_path), "--no-plots", "--quiet",
                           "--scheduler", f"tcp://127.0.0.1:{_free_port()}"],
                          capture_output=True, text=True, check=False, timeout=120,
                          env={**os.environ, "DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT": "3s"})
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "cannot reach the Dask scheduler" in proc.stderr


def test_a_worker_imports_only_the_engine():
    """A worker process (local pool or Dask) imports what it unpickles: ``run_chunk`` and the
    pool's initializer. That must not pull in the API's plotting, table and sensitivity
    libraries, which cost each worker seconds to start and a hundred MB of memory."""
    code = ("import sys, sim.model.engine; print(' '.join(m for m in ('pandas', 'pyarrow', 'matplotlib', "
            "'SALib', 'dask') if m in sys.modules))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert loaded.stdout.strip() == ""
    from sim.experiment.executors import quiet_worker, run_chunk
    assert run_chunk.__module__ == quiet_worker.__module__ == "sim.model.engine"
