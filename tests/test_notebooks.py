"""The notebooks run top to bottom in a fresh kernel, at small sizes, and are stored without outputs.

The sizes come from environment variables the notebooks read (``SIM_NOTEBOOK_RUNS`` and
friends). Each kernel runs its replications in-process (``SIM_WORKERS=1``), and two
notebooks run at a time, one per core.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("*.ipynb"))
SMALL = {"SIM_NOTEBOOK_RUNS": "12", "SIM_NOTEBOOK_POINT_RUNS": "2", "SIM_NOTEBOOK_SOBOL_N": "4",
         "SIM_WORKERS": "1", "JUPYTER_PLATFORM_DIRS": "1"}
AT_ONCE = 2


def test_the_four_notebooks_are_there_and_stored_without_outputs():
    assert [p.stem for p in NOTEBOOKS] == ["01_quickstart", "02_shocks", "03_policy_levers",
                                           "04_sweeps_and_sensitivity"]
    for path in NOTEBOOKS:
        book = nbformat.read(path, as_version=4)
        code = [c for c in book.cells if c.cell_type == "code"]
        assert code, path.name
        assert all(not c.outputs and c.execution_count is None for c in code), f"{path.name} has outputs"


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    """Every notebook executed in a fresh kernel: {stem: (notebook, its output folder)}."""
    from nbclient import NotebookClient

    books = {p.stem: (nbformat.read(p, as_version=4), tmp_path_factory.mktemp(p.stem)) for p in NOTEBOOKS}
    gate = asyncio.Semaphore(AT_ONCE)

    async def one(stem: str) -> None:
        book, out = books[stem]
        async with gate:
            client = NotebookClient(book, timeout=600, kernel_name="python3",
                                    resources={"metadata": {"path": str(NOTEBOOKS[0].parent)}})
            await client.async_execute(env={**os.environ, **SMALL, "SIM_NOTEBOOK_OUT": str(out)})

    async def every() -> None:
        await asyncio.gather(*(one(stem) for stem in books))

    asyncio.run(every())
    return books


@pytest.mark.parametrize("stem", [p.stem for p in NOTEBOOKS])
def test_notebook_runs_top_to_bottom(executed, stem):
    book, out = executed[stem]
    outputs = [o for c in book.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert all(c.execution_count for c in book.cells if c.cell_type == "code"), "a cell did not run"
    assert [o for o in outputs if "image/png" in o.get("data", {})], f"{stem} showed no figure"
    assert [o for o in outputs if "text/html" in o.get("data", {})], f"{stem} showed no table"
    if stem == "01_quickstart":
        assert (out / "baseline_report.html").stat().st_size > 100_000
