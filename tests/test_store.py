"""Durable runs: shards as chunks finish, resume after a kill or Ctrl-C, one writer per folder."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from conftest import BASELINE, baseline
from sim.results import ParquetColumns, ResultSet, report_folder
from sim.runner import run_many
from sim.stats import summarize
from sim.store import RunFolder, RunFolderError, run_to_folder, write_row_groups

RUNS, SEED = 30, 4


@pytest.fixture(scope="module")
def scn():
    return baseline()


@pytest.fixture(scope="module")
def reference(scn):
    """The same run, uninterrupted and in memory."""
    return run_many(scn, runs=RUNS, seed=SEED, workers=1)


def _same_tables(folder, reference):
    res = ResultSet.open(folder)
    pd.testing.assert_frame_equal(res.outcomes, reference.outcomes, check_exact=True)
    pd.testing.assert_frame_equal(res.timeseries, reference.timeseries, check_exact=True)


def _interrupt_after(n_chunks):
    """A progress callback that raises KeyboardInterrupt once ``n_chunks`` chunks are saved."""
    seen = []

    def progress(k):
        seen.append(k)
        if len(seen) == n_chunks:
            raise KeyboardInterrupt

    return progress


def _chunks_done(folder):
    return json.loads((folder / "manifest.json").read_text())["chunks_done"]


def test_a_run_is_written_in_shards_and_compacted(tmp_path, scn, reference):
    done = run_to_folder(scn, tmp_path, runs=RUNS, seed=SEED, workers=1, chunk_size=7)
    assert (done.chunks_run, done.chunks_total) == (5, 5)
    _same_tables(tmp_path, reference)
    assert not (tmp_path / "shards").exists()
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["plan"]["chunk_size"] == 7


def test_compaction_gathers_shards_into_row_groups(tmp_path):
    parts = [pa.table({"replication": list(range(i, i + 10)), "x": [float(i)] * 10}) for i in range(0, 70, 10)]
    write_row_groups(tmp_path / "t.parquet", iter(parts), rows=25)
    source = pq.ParquetFile(tmp_path / "t.parquet")
    sizes = [source.metadata.row_group(g).num_rows for g in range(source.num_row_groups)]
    assert sizes == [30, 30, 10]
    assert source.read().equals(pa.concat_tables(parts))


def test_the_report_step_reads_columns_lazily_and_summarises_the_same(tmp_path, scn, reference):
    run_to_folder(scn, tmp_path, runs=RUNS, seed=SEED, workers=1, chunk_size=7)
    res, summary = report_folder(tmp_path, plots=False)
    assert isinstance(res.outcomes, ParquetColumns) and len(res.outcomes) == RUNS
    pd.testing.assert_series_equal(res.outcomes["npv_usd"], reference.outcomes["npv_usd"], check_exact=True)
    pd.testing.assert_frame_equal(summary, summarize(reference.outcomes, scn.horizon_years), check_exact=True)
    assert (tmp_path / "summary.csv").exists()
    res.write(tmp_path / "copy", plots=False)  # a lazy run can still be written (the columns read)
    copy = ResultSet.open(tmp_path / "copy").outcomes
    pd.testing.assert_frame_equal(copy, reference.outcomes[list(res.outcomes.columns)], check_exact=True)


def test_an_interrupted_run_resumes_to_the_same_tables(tmp_path, scn, reference):
    with pytest.raises(KeyboardInterrupt):
        run_to_folder(scn, tmp_path, runs=RUNS, seed=SEED, workers=1, chunk_size=7,
                      progress=_interrupt_after(2))
    assert len(_chunks_done(tmp_path)) == 2
    with pytest.raises(FileNotFoundError, match="unfinished run"):
        ResultSet.open(tmp_path)
    done = run_to_folder(scn, tmp_path, runs=RUNS, seed=SEED, workers=2, resume=True)
    assert (done.chunks_run, done.chunks_total) == (3, 5)  # the plan's chunk size is kept
    _same_tables(tmp_path, reference)
    again = run_to_folder(scn, tmp_path, runs=RUNS, seed=SEED, resume=True)
    assert again.chunks_run == 0


@pytest.mark.parametrize(("change", "words"), [
    ({"seed": SEED + 1}, "seed 4 (this command asks for 5)"),
    ({"runs": RUNS + 1}, "30 runs (this command asks for 31)"),
    ({"scenario": "tariff"}, "a different resolved scenario"),
])
def test_resuming_something_else_is_refused(tmp_path, scn, change, words):
    with pytest.raises(KeyboardInterrupt):
        run_to_folder(scn, tmp_path, runs=RUNS, seed=SEED, workers=1, chunk_size=7,
                      progress=_interrupt_after(1))
    other = baseline(shocks__tariff__enabled=False) if "scenario" in change else scn
    with pytest.raises(RunFolderError, match="cannot resume") as caught:
        run_to_folder(other, tmp_path, runs=change.get("runs", RUNS), seed=change.get("seed", SEED),
                      resume=True)
    assert words in str(caught.value)
    assert len(_chunks_done(tmp_path)) == 1  # nothing was touched


def test_nothing_to_resume_is_a_clear_error(tmp_path, scn):
    with pytest.raises(RunFolderError, match="nothing to resume"):
        run_to_folder(scn, tmp_path, runs=RUNS, seed=SEED, resume=True)


def test_a_second_writer_is_refused(tmp_path, scn):
    with RunFolder(tmp_path).locked(), pytest.raises(RunFolderError, match="being written by another run"):
        run_to_folder(scn, tmp_path, runs=RUNS, seed=SEED, workers=1)
    run_to_folder(scn, tmp_path, runs=5, seed=SEED, workers=1)  # free again once released


def test_outcomes_only(tmp_path, scn, reference):
    """Kept through an interruption: the resumed run keeps outcomes only, as first asked."""
    with pytest.raises(KeyboardInterrupt):
        run_to_folder(scn, tmp_path, runs=RUNS, seed=SEED, workers=1, chunk_size=7, timeseries=False,
                      progress=_interrupt_after(1))
    run_to_folder(scn, tmp_path, runs=RUNS, seed=SEED, workers=1, resume=True)
    assert not (tmp_path / "timeseries.parquet").exists()
    res = ResultSet.open(tmp_path)
    pd.testing.assert_frame_equal(res.outcomes, reference.outcomes, check_exact=True)
    assert res.timeseries.empty
    written = res.write_reports(tmp_path)
    assert sorted(p.name for p in written) == ["outcome_histograms.png", "phase_survival.png", "summary.csv"]


# --- the command line, killed and interrupted as a user's run would be ----------------------

def _start(out, *extra):
    cmd = [sys.executable, "-m", "sim", "run", str(BASELINE), "--runs", str(RUNS), "--seed", str(SEED),
           "--chunk-size", "3", "--out", str(out), "--no-plots", "--quiet", *extra]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)


def _wait_for_chunks(out, n, proc, timeout=120.0):
    began = time.monotonic()
    while time.monotonic() - began < timeout:
        try:
            if len(_chunks_done(out)) >= n:
                return
        except (FileNotFoundError, json.JSONDecodeError, KeyError):
            pass
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.05)
    raise AssertionError("the run saved no chunk in time")


def test_killed_run_resumes_from_the_command_line(tmp_path, reference):
    """SIGKILL mid-run (no chance to clean up), then --resume: the same tables as one
    uninterrupted run."""
    out = tmp_path / "run"
    proc = _start(out, "--workers", "1")
    _wait_for_chunks(out, 2, proc)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate()
    finished = subprocess.run([sys.executable, "-m", "sim", "run", str(BASELINE), "--runs", str(RUNS),
                               "--seed", str(SEED), "--out", str(out), "--no-plots", "--resume"],
                              capture_output=True, text=True, check=False)
    assert finished.returncode == 0, finished.stderr
    assert "chunks were already done" in finished.stdout
    _same_tables(out, reference)


def _running(pid: int) -> bool:
    """Whether a process still runs. An orphan that has exited stays in /proc as a zombie
    until whoever adopted it reaps it, and some containers' first process never does: a
    zombie has exited, so it counts as gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


@pytest.mark.skipif(not os.path.exists("/proc/self/task"), reason="reads child processes from /proc")
def test_workers_exit_when_the_run_is_killed_outright(tmp_path):
    """kill -9 of the main process alone: its pool workers must not linger."""
    proc = _start(tmp_path / "run", "--workers", "2")
    _wait_for_chunks(tmp_path / "run", 1, proc)
    children = [int(p) for p in Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()]
    assert children
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()  # not communicate(): lingering workers would hold its pipes open
    proc.stdout.close()
    proc.stderr.close()
    began = time.monotonic()
    while time.monotonic() - began < 10 and any(_running(c) for c in children):
        time.sleep(0.2)
    left = [c for c in children if _running(c)]
    for c in left:  # do not leave them behind if the check fails
        os.kill(c, signal.SIGKILL)
    assert not left, f"workers {left} outlived the killed run"


def test_ctrl_c_stops_cleanly_and_says_how_to_resume(tmp_path):
    out = tmp_path / "run"
    proc = _start(out, "--workers", "2")
    _wait_for_chunks(out, 1, proc)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert "Interrupted:" in stderr and "--resume" in stderr
    assert f"--out {out}" in stderr
    assert len(_chunks_done(out)) >= 1
