"""``sim.run`` with worker processes, called the ways analysts call it: a plain script
with no ``if __name__ == "__main__":`` guard, code fed to ``python -``, a ``python -c``
one-liner, IPython, and a Jupyter kernel.

Workers are started with "spawn", which by default re-runs the caller's main script in
every worker; an unguarded script then starts its run again inside each worker and the
pool breaks (``BrokenProcessPool``). Each script prints a line when it starts: a worker
that re-ran it would print it again, so exactly one such line proves the workers left it
alone.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from conftest import BASELINE

CODE = f"""\
print("script started")
import sim
res = sim.run(sim.load_scenario({str(BASELINE)!r}, set={{"horizon_years": 3}}), runs=24, seed=1, workers=2)
print("replications", len(res.outcomes), "workers", res.manifest["workers"])
"""
DONE = "replications 24 workers 2"
BIN = Path(sys.executable).parent


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "SIM_WORKERS"}
    return {**env, "JUPYTER_PLATFORM_DIRS": "1"}


def _check(result: subprocess.CompletedProcess[str]) -> None:
    said = result.stdout + result.stderr
    assert result.returncode == 0, said[-3000:]
    assert DONE in result.stdout, said[-3000:]
    assert said.count("script started") == 1, said[-3000:]


@pytest.mark.parametrize("how", ["script", "stdin", "dash-c", "ipython"])
def test_a_run_with_workers_from_a_plain_script(tmp_path, how):
    script = tmp_path / "analysis.py"
    script.write_text(CODE)
    commands = {"script": ([sys.executable, str(script)], None),
                "stdin": ([sys.executable, "-"], CODE),
                "dash-c": ([sys.executable, "-c", CODE], None),
                "ipython": ([str(BIN / "ipython"), "--no-banner", "--quick", str(script)], None)}
    command, given = commands[how]
    _check(subprocess.run(command, input=given, capture_output=True, text=True, cwd=tmp_path,
                          env=_env(), timeout=300))


def test_a_run_with_workers_from_a_jupyter_kernel(tmp_path):
    from nbclient import NotebookClient

    book = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(CODE)])
    NotebookClient(book, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute(env=_env())
    text = "".join(o.get("text", "") for o in book.cells[0].outputs if o.output_type == "stream")
    assert not [o for o in book.cells[0].outputs if o.output_type == "error"], book.cells[0].outputs
    assert DONE in text and text.count("script started") == 1, text
