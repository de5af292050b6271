"""Durable runs: shards as chunks finish, resume after a kill or Ctrl-C, one writer per folder."""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from conftest import BASELINE, baseline, hears_ctrl_c, interrupt_after
from sim.analysis.stats import summarize
from sim.experiment.manifest import Manifest, model_digest
from sim.experiment.results import ParquetColumns, ResultSet, report_folder
from sim.experiment.runner import Plan, run_many
from sim.experiment.store import RunFolder, RunFolderError, run_to_folder, write_row_groups

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
                      progress=interrupt_after(2))
    assert len(_chunks_done(tmp_path)) == 2
    with pytest.raises(FileNotFoundError, match="unfinished run"):
        ResultSet.open(tmp_path)
    done = run_to_folder(scn, tmp_path, runs=RUNS, seed=SEED, workers=2, resume=True)
    assert (done.chunks_run, done.chunks_total) == (3, 5)  # the plan's chunk size is kept
    _same_tables(tmp_path, reference)
    again = run_to_folder(scn, tmp_path, runs=RUNS, seed=SEED, resume=True)
    assert again.chunks_run == 0


class Crash(BaseException):
    """The process stopping dead at a chosen point (nothing after it runs)."""


def test_a_run_stopped_between_compaction_and_completion_resumes(tmp_path, scn, reference, monkeypatch):
    """The tables are written but the manifest does not yet say complete: the shards must
    still be there, so that resuming compacts them again."""
    real = RunFolder.write_manifest

    def crash_on_completion(self, manifest):
        if manifest.get("status") == "complete":
            raise Crash
        real(self, manifest)

    monkeypatch.setattr(RunFolder, "write_manifest", crash_on_completion)
    with pytest.raises(Crash):
        run_to_folder(scn, tmp_path, runs=RUNS, seed=SEED, workers=1, chunk_size=7)
    monkeypatch.undo()
    assert json.loads((tmp_path / "manifest.json").read_text())["status"] == "running"
    assert len(list((tmp_path / "shards").iterdir())) == 2 * 5
    done = run_to_folder(scn, tmp_path, runs=RUNS, seed=SEED, workers=2, resume=True)
    assert done.chunks_run == 0
    _same_tables(tmp_path, reference)
    assert not (tmp_path / "shards").exists()


def test_shards_left_by_a_run_stopped_once_complete_are_cleared_on_resume(tmp_path, scn, reference, monkeypatch):
    def crash_once_complete(self):
        if (self.path / "manifest.json").exists() and json.loads(
                (self.path / "manifest.json").read_text())["status"] == "complete":
            raise Crash

    monkeypatch.setattr(RunFolder, "clear_shards", crash_once_complete)
    with pytest.raises(Crash):
        run_to_folder(scn, tmp_path, runs=RUNS, seed=SEED, workers=1, chunk_size=7)
    monkeypatch.undo()
    assert (tmp_path / "shards").exists()
    _same_tables(tmp_path, reference)  # complete already: the tables are whole
    assert run_to_folder(scn, tmp_path, runs=RUNS, seed=SEED, resume=True).chunks_run == 0
    assert not (tmp_path / "shards").exists()


def test_a_fresh_run_does_not_replace_an_interrupted_one_unless_told(tmp_path, scn, reference):
    with pytest.raises(KeyboardInterrupt):
        run_to_folder(scn, tmp_path, runs=RUNS, seed=SEED, workers=1, chunk_size=7,
                      progress=interrupt_after(2))
    with pytest.raises(RunFolderError, match=r"holds an interrupted run \(14 of 30 replications saved\): "
                                             "finish it with --resume, or start anew with --overwrite"):
        run_to_folder(scn, tmp_path, runs=RUNS, seed=SEED, workers=1)
    assert len(_chunks_done(tmp_path)) == 2  # nothing was touched
    (tmp_path / "plots").mkdir()
    (tmp_path / "plots" / "old.png").write_bytes(b"from an earlier run")
    run_to_folder(scn, tmp_path, runs=RUNS, seed=SEED, workers=1, overwrite=True)
    _same_tables(tmp_path, reference)
    assert not (tmp_path / "plots").exists()  # an earlier run's figures do not sit beside new tables


def test_a_finished_run_is_replaced_only_by_a_run_of_the_same_scenario(tmp_path, scn):
    """Running the same scenario again (more replications, another seed) replaces the run;
    a run with other settings is refused with what differs, unless told to overwrite."""
    run_to_folder(scn, tmp_path, runs=5, seed=SEED, workers=1)
    run_to_folder(scn, tmp_path, runs=6, seed=SEED + 1, workers=1)  # the same question: fine
    assert len(ResultSet.open(tmp_path).outcomes) == 6
    longer = baseline(horizon_years=30)
    with pytest.raises(RunFolderError, match=r"holds a finished run of baseline \(6 replications\); it "
                       r"differs from this run's in horizon_years \(25 in that run, 30 in this one\)\. "
                       r"Choose another --out, or replace it with --overwrite"):
        run_to_folder(longer, tmp_path, runs=5, seed=SEED, workers=1)
    held = ResultSet.open(tmp_path)
    assert len(held.outcomes) == 6 and held.horizon_years == 25  # nothing was touched
    run_to_folder(longer, tmp_path, runs=5, seed=SEED, workers=1, overwrite=True)
    assert ResultSet.open(tmp_path).horizon_years == 30


def test_a_run_does_not_replace_a_finished_sweep_unless_told(tmp_path, scn):
    from sim.experiment.sweeps import make_design, parse_vary, run_sweep

    run_sweep(BASELINE, make_design([parse_vary("shocks.security.rate_factor=1,2")]), runs=2, seed=SEED,
              workers=1, out=tmp_path, plots=False)
    with pytest.raises(RunFolderError, match="holds a finished sweep, and this is a run"):
        run_to_folder(scn, tmp_path, runs=5, seed=SEED, workers=1)
    run_to_folder(scn, tmp_path, runs=5, seed=SEED, workers=1, overwrite=True)
    assert len(ResultSet.open(tmp_path).outcomes) == 5


def test_a_folder_of_other_files_is_left_alone(tmp_path, scn):
    """A run is written only to a new or empty folder, or over a run or sweep: never among
    someone else's files, and it removes only its own."""
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(RunFolderError, match=r"is not empty and holds no run or sweep \(notes.txt\)"):
        run_to_folder(scn, tmp_path, runs=5, seed=SEED, workers=1)
    (tmp_path / "notes.txt").unlink()
    (tmp_path / "manifest.json").write_text('{"name": "someone else\'s"}')
    with pytest.raises(RunFolderError, match="holds a manifest.json that is not a run's or a sweep's"):
        run_to_folder(scn, tmp_path, runs=5, seed=SEED, workers=1)
    (tmp_path / "manifest.json").unlink()
    run_to_folder(scn, tmp_path, runs=5, seed=SEED, workers=1)  # empty: fine
    (tmp_path / "shards").mkdir()
    (tmp_path / "shards" / "keep.txt").write_text("mine")
    run_to_folder(scn, tmp_path, runs=5, seed=SEED, workers=1, chunk_size=2)  # over a run: fine
    assert [f.name for f in (tmp_path / "shards").iterdir()] == ["keep.txt"]


def test_a_sweep_folder_is_not_resumed_as_a_run(tmp_path, scn):
    from sim.experiment.sweeps import make_design, parse_vary, run_sweep

    run_sweep(BASELINE, make_design([parse_vary("shocks.security.rate_factor=1,2")]), runs=2, seed=SEED,
              workers=1, out=tmp_path, plots=False)
    with pytest.raises(RunFolderError, match="holds a sweep, not a run: resume it with sim sweep"):
        run_to_folder(scn, tmp_path, runs=2, seed=SEED, resume=True)


def test_resuming_with_other_model_code_is_refused(tmp_path, scn):
    with pytest.raises(KeyboardInterrupt):
        run_to_folder(scn, tmp_path, runs=RUNS, seed=SEED, workers=1, chunk_size=7,
                      progress=interrupt_after(1))
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["plan"]["model_sha256"] == model_digest()
    manifest["plan"]["model_sha256"] = "0" * 64  # as if the model had changed since the run began
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(RunFolderError, match="started by a different version of the model code"):
        run_to_folder(scn, tmp_path, runs=RUNS, seed=SEED, resume=True)
    assert len(_chunks_done(tmp_path)) == 1


@pytest.mark.parametrize(("change", "words"), [
    ({"seed": SEED + 1}, "seed 4 (this command asks for 5)"),
    ({"runs": RUNS + 1}, "30 runs (this command asks for 31)"),
    ({"scenario": "tariff"}, "a different resolved scenario"),
])
def test_resuming_something_else_is_refused(tmp_path, scn, change, words):
    with pytest.raises(KeyboardInterrupt):
        run_to_folder(scn, tmp_path, runs=RUNS, seed=SEED, workers=1, chunk_size=7,
                      progress=interrupt_after(1))
    other = baseline(shocks__tariff__enabled=False) if "scenario" in change else scn
    with pytest.raises(RunFolderError, match="cannot resume") as caught:
        run_to_folder(other, tmp_path, runs=change.get("runs", RUNS), seed=change.get("seed", SEED),
                      resume=True)
    assert words in str(caught.value)
    assert len(_chunks_done(tmp_path)) == 1  # nothing was touched


def test_nothing_to_resume_is_a_clear_error(tmp_path, scn):
    with pytest.raises(RunFolderError, match="nothing to resume .* it holds no interrupted run"):
        run_to_folder(scn, tmp_path, runs=RUNS, seed=SEED, resume=True)
    with pytest.raises(RunFolderError, match="nothing to resume .* there is no such folder"):
        run_to_folder(scn, tmp_path / "typo", runs=RUNS, seed=SEED, resume=True)
    assert not (tmp_path / "typo").exists()  # a mistaken --resume leaves nothing behind


def test_a_second_run_on_a_folder_in_use_is_refused_from_the_command_line(tmp_path):
    with RunFolder(tmp_path).locked():  # this process writes there
        second = subprocess.run([sys.executable, "-m", "sim", "run", str(BASELINE), "--runs", "5",
                                 "--out", str(tmp_path), "--overwrite"], capture_output=True, text=True,
                                check=False)
    assert second.returncode == 2, second.stderr
    assert second.stderr.strip() == (f"{tmp_path} is being written by another run (pid {os.getpid()}); "
                                     "wait for it to finish or choose another --out")
    assert not (tmp_path / "manifest.json").exists()


def test_the_folder_stays_locked_until_the_run_is_reported(tmp_path, scn, monkeypatch):
    """Between the tables and the summary another run must not replace the tables."""
    from sim import api

    real, refused = api.report_folder, []

    def report_while_another_run_tries(folder, **kwargs):
        try:
            with RunFolder(folder).locked():
                pass
        except RunFolderError as exc:
            refused.append(str(exc))
        return real(folder, **kwargs)

    monkeypatch.setattr(api, "report_folder", report_while_another_run_tries)
    api.run(scn, runs=5, seed=SEED, workers=1, out=tmp_path, plots=False)
    assert refused and "being written by another run" in refused[0]
    with RunFolder(tmp_path).locked():  # and free once the run has returned
        pass


def test_a_second_writer_is_refused(tmp_path, scn):
    with RunFolder(tmp_path).locked(), pytest.raises(RunFolderError, match="being written by another run"):
        run_to_folder(scn, tmp_path, runs=RUNS, seed=SEED, workers=1)
    run_to_folder(scn, tmp_path, runs=5, seed=SEED, workers=1)  # free again once released


def test_outcomes_only(tmp_path, scn, reference):
    """Kept through an interruption: the resumed run keeps outcomes only, as first asked."""
    with pytest.raises(KeyboardInterrupt):
        run_to_folder(scn, tmp_path, runs=RUNS, seed=SEED, workers=1, chunk_size=7, timeseries=False,
                      progress=interrupt_after(1))
    run_to_folder(scn, tmp_path, runs=RUNS, seed=SEED, workers=1, resume=True)
    assert not (tmp_path / "timeseries.parquet").exists()
    res = ResultSet.open(tmp_path)
    pd.testing.assert_frame_equal(res.outcomes, reference.outcomes, check_exact=True)
    assert res.timeseries.empty
    written = res.write_reports(tmp_path)
    assert sorted(p.name for p in written) == ["outcome_histograms.png", "phase_survival.png", "summary.csv",
                                                    "summary_labelled.csv"]


# --- the command line, killed and interrupted as a user's run would be ----------------------

def _start(out, *extra):
    """``sim run`` in a child process, each chunk slowed (see slow_chunks.py) so that a signal
    sent once a chunk is saved finds the run still going."""
    cmd = [sys.executable, "-c", "import slow_chunks; slow_chunks.main()", "run", str(BASELINE),
           "--runs", str(RUNS), "--seed", str(SEED), "--chunk-size", "3", "--out", str(out), "--no-plots",
           "--quiet", *extra]
    path = os.pathsep.join(filter(None, [str(Path(__file__).parent), os.environ.get("PYTHONPATH")]))
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True, preexec_fn=hears_ctrl_c, env={**os.environ, "PYTHONPATH": path})


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
    saved = _chunks_done(out)
    finished = subprocess.run([sys.executable, "-m", "sim", "run", str(BASELINE), "--runs", str(RUNS),
                               "--seed", str(SEED), "--out", str(out), "--no-plots", "--resume"],
                              capture_output=True, text=True, check=False)
    assert finished.returncode == 0, finished.stderr
    plan = Plan(**json.loads((out / "manifest.json").read_text())["plan"])  # tapered: not runs / size
    assert f"({len(saved)} of {len(plan.chunks())} chunks were already done)" in finished.stdout
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


def test_ctrl_c_stops_cleanly_and_says_how_to_resume(tmp_path, reference):
    """Ctrl-C stops the run, and the command it prints finishes it to the tables of an
    uninterrupted run."""
    out = tmp_path / "run"
    proc = _start(out, "--workers", "2")
    _wait_for_chunks(out, 1, proc)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr
    saved = _chunks_done(out)
    assert len(saved) >= 1
    assert f"Interrupted: {sum(b - a for a, b in saved)} of {RUNS} replications are saved in {out}/" in stderr
    again = shlex.split(stderr.split("Finish the run with:")[1].strip().splitlines()[0])
    assert again[:2] == ["sim", "run"] and again[-1] == "--resume"
    assert {"--workers", "--no-plots", "--quiet"} <= set(again)  # as the run was started
    finished = subprocess.run([sys.executable, "-m", "sim", *again[1:]], capture_output=True, text=True,
                              check=False)
    assert finished.returncode == 0, finished.stderr
    assert json.loads((out / "manifest.json").read_text())["chunks_resumed"] == len(saved)
    _same_tables(out, reference)


# --- a damaged folder is detected, never deepened ---------------------------------------------

def _interrupted(folder: Path, scn, seed: int = SEED, chunks: int = 3) -> list[Path]:
    """An interrupted run with ``chunks`` chunks of 7 saved; the saved outcome shards."""
    with pytest.raises(KeyboardInterrupt):
        run_to_folder(scn, folder, runs=RUNS, seed=seed, workers=1, chunk_size=7, progress=interrupt_after(chunks))
    return sorted((folder / "shards").glob("outcomes-*.parquet"))


def _refused_in_one_line(call, *words: str) -> str:
    with pytest.raises(RunFolderError) as caught:
        call()
    message = str(caught.value)
    assert "\n" not in message and all(w in message for w in words), message
    return message


def test_swapped_or_foreign_shards_are_refused_on_resume_and_nothing_is_removed(tmp_path, scn):
    """Two outcome shards swapped, or one replaced by the same chunk of another seed's run:
    the hash recorded as each was written does not match, so the resume is refused, naming
    the shard, before it builds anything on it or removes anything."""
    swapped = tmp_path / "swapped"
    first, second, _ = _interrupted(swapped, scn)
    a, b = first.read_bytes(), second.read_bytes()
    first.write_bytes(b)
    second.write_bytes(a)
    before = sorted(p.name for p in (swapped / "shards").iterdir())
    _refused_in_one_line(lambda: run_to_folder(scn, swapped, runs=RUNS, seed=SEED, resume=True),
                         first.name, "--overwrite")
    assert sorted(p.name for p in (swapped / "shards").iterdir()) == before

    other_seed = tmp_path / "other"
    _interrupted(other_seed, scn, seed=SEED + 1)
    foreign = tmp_path / "foreign"
    shards = _interrupted(foreign, scn)
    shards[1].write_bytes((other_seed / "shards" / shards[1].name).read_bytes())
    _refused_in_one_line(lambda: run_to_folder(scn, foreign, runs=RUNS, seed=SEED, resume=True),
                         shards[1].name, "not what was written")


def test_a_manifest_edited_to_complete_does_not_let_resume_delete_the_shards(tmp_path, scn):
    _interrupted(tmp_path, scn)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    manifest["status"] = "complete"
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    shards = sorted((tmp_path / "shards").iterdir())
    _refused_in_one_line(lambda: run_to_folder(scn, tmp_path, runs=RUNS, seed=SEED, resume=True),
                         "outcomes.parquet", "missing or not whole")
    assert sorted((tmp_path / "shards").iterdir()) == shards


def test_truncated_files_are_refused_in_one_line_and_overwrite_still_works(tmp_path, scn, reference):
    from sim import api

    shard = _interrupted(tmp_path / "run", scn)[0]
    shard.write_bytes(shard.read_bytes()[:100])
    _refused_in_one_line(lambda: run_to_folder(scn, tmp_path / "run", runs=RUNS, seed=SEED, resume=True),
                         shard.name)

    done = tmp_path / "done"
    run_to_folder(scn, done, runs=RUNS, seed=SEED, workers=1, chunk_size=7)
    table = done / "outcomes.parquet"
    whole = table.read_bytes()
    table.write_bytes(whole[: len(whole) // 2])
    for read in (lambda: ResultSet.open(done), lambda: api.discover(done, "npv_usd > 0"),
                 lambda: report_folder(done, plots=False)):
        _refused_in_one_line(read, "outcomes.parquet", "damaged", "--overwrite")
    table.write_bytes(whole)

    manifest = done / "manifest.json"
    manifest.write_text(manifest.read_text()[:40])
    for read in (lambda: ResultSet.open(done), lambda: api.open(done),
                 lambda: run_to_folder(scn, done, runs=RUNS, seed=SEED, resume=True),
                 lambda: run_to_folder(scn, done, runs=RUNS, seed=SEED)):
        _refused_in_one_line(read, "manifest.json", "damaged")
    run_to_folder(scn, done, runs=RUNS, seed=SEED, workers=1, overwrite=True)
    _same_tables(done, reference)


def test_temporary_files_left_by_a_kill_are_removed(tmp_path, scn, reference):
    _interrupted(tmp_path, scn)
    left = [tmp_path / f".outcomes.parquet.tmp-{os.getpid() + 1}", tmp_path / ".manifest.json.tmp-99999"]
    for f in left:
        f.write_bytes(b"half a file")
    run_to_folder(scn, tmp_path, runs=RUNS, seed=SEED, workers=1, resume=True)
    assert not any(f.exists() for f in left)
    _same_tables(tmp_path, reference)


def test_overwrite_leaves_a_folder_of_other_files_alone_even_with_an_unreadable_manifest(tmp_path, scn):
    """A manifest.json that is not JSON marks a folder as damaged only if it holds shards or
    tables of ours: someone else's folder is refused, and --overwrite removes nothing there."""
    (tmp_path / "manifest.json").write_text("not json")
    (tmp_path / "summary.csv").write_text("mine")
    (tmp_path / "plots").mkdir()
    for overwrite in (False, True):
        with pytest.raises(RunFolderError, match="not a run's or a sweep's"):
            run_to_folder(scn, tmp_path, runs=5, seed=SEED, workers=1, overwrite=overwrite)
    assert (tmp_path / "manifest.json").read_text() == "not json" and (tmp_path / "summary.csv").exists()
    assert (tmp_path / "plots").is_dir()


# --- manifests from earlier versions ------------------------------------------------------------

OLD_FINISHED_KEYS = ("chunk_size", "chunks_resumed", "created_utc", "events_per_replication", "model_sha256",
                     "overrides", "parameters", "plan", "platform", "question", "runs", "scenario", "scenario_file",
                     "scenario_name", "scenario_sha256", "seed", "status", "timeseries", "versions", "wall_seconds",
                     "workers")
"""The keys of a finished run's manifest as main wrote them before the manifest had a version."""
OLD_RUNNING_KEYS = ("status", "plan", "chunks_done", "timeseries", "scenario_name", "scenario", "shard_sha256",
                    "events_per_chunk")
"""The keys of an interrupted run's manifest then."""


def _as_written_before_versions(folder: Path, keys: tuple[str, ...]) -> None:
    path = folder / "manifest.json"
    manifest = json.loads(path.read_text())
    assert manifest["version"] == 2
    path.write_text(json.dumps({k: manifest[k] for k in keys if k in manifest}, indent=2))


def test_folders_written_before_the_manifest_had_a_version_are_read_and_resumed(tmp_path, scn, reference):
    """Every field an older manifest lacks takes its default: a finished run opens, and an
    interrupted one resumes to the tables of an uninterrupted run."""
    done = tmp_path / "done"
    run_to_folder(scn, done, runs=RUNS, seed=SEED, workers=1)
    _as_written_before_versions(done, OLD_FINISHED_KEYS)
    res = ResultSet.open(done)
    assert (res.manifest.version, res.manifest.kind, res.manifest.seed, res.manifest["seed"]) == (1, "run", SEED, SEED)
    _same_tables(done, reference)
    stopped = tmp_path / "stopped"
    with pytest.raises(KeyboardInterrupt):
        run_to_folder(scn, stopped, runs=RUNS, seed=SEED, workers=1, chunk_size=7, progress=interrupt_after(2))
    _as_written_before_versions(stopped, OLD_RUNNING_KEYS)
    resumed = run_to_folder(scn, stopped, runs=RUNS, seed=SEED, workers=1, resume=True)
    assert resumed.chunks_run == resumed.chunks_total - 2 and resumed.manifest.version == 2
    _same_tables(stopped, reference)


def test_a_manifest_of_the_wrong_shape_is_damaged_and_a_newer_field_is_kept(tmp_path, scn):
    run_to_folder(scn, tmp_path, runs=5, seed=SEED, workers=1)
    path = tmp_path / "manifest.json"
    manifest = json.loads(path.read_text())
    path.write_text(json.dumps({**manifest, "from_a_newer_version": [1, 2]}))
    assert Manifest.read(path).model_extra == {"from_a_newer_version": [1, 2]}
    path.write_text(json.dumps({**manifest, "seed": "four"}))
    _refused_in_one_line(lambda: ResultSet.open(tmp_path), "manifest.json is damaged", "seed", "--overwrite")
