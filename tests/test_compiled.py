"""The compiled model (mypyc, built on install) gives the same numbers as its Python sources.

The model's hot modules are compiled to C when the package is installed where a C compiler
is at hand (``setup.py``), with floating-point contraction off. The same replications run
here compiled, in this process, and from the sources, in a process started with
``SIM_PURE_PYTHON=1``; every outcome and every yearly value must be equal, bit for bit.
Where the model is not compiled the comparison is skipped, unless ``SIM_EXPECT_COMPILED=1``
(CI sets it), which turns a build that fell back to pure Python into a failure.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import sim.model
from conftest import ROOT
from sim.model.engine import run_chunk
from sim.scenario.files import load_scenario

SCENARIOS = ("baseline", "combined_stress")
RUN = """
import sys
import numpy as np
import sim.model
import sim.model.world
from sim.model.engine import run_chunk
from sim.scenario.files import load_scenario
assert not sim.model.COMPILED and sim.model.world.__file__.endswith(".py"), sim.model.world.__file__
chunk = run_chunk(load_scenario(sys.argv[1]), 7, 0, 12)
np.savez(sys.argv[2], **{"o:" + k: v for k, v in chunk.outcomes.items()},
         **{"s:" + k: v for k, v in chunk.series.items()})
"""


def _compiled_or_skip() -> None:
    if sim.model.COMPILED:
        return
    if os.environ.get("SIM_EXPECT_COMPILED") == "1":
        pytest.fail("the model is not compiled: the install fell back to pure Python (see its log), "
                    "or a model source was edited since (reinstall: pip install -e .)")
    pytest.skip("the model is not compiled here")


@pytest.mark.parametrize("name", SCENARIOS)
def test_the_compiled_and_the_pure_python_model_give_the_same_tables(name, tmp_path):
    _compiled_or_skip()
    import sim.model.world

    assert not sim.model.world.__file__.endswith(".py")
    path = ROOT / "scenarios" / f"{name}.yaml"
    compiled = run_chunk(load_scenario(path), 7, 0, 12)
    out = tmp_path / "pure.npz"
    env = {**os.environ, "SIM_PURE_PYTHON": "1"}
    subprocess.run([sys.executable, "-c", RUN, str(path), str(out)], check=True, env=env)
    pure = np.load(out)
    made = {"o:" + k: v for k, v in compiled.outcomes.items()} | {"s:" + k: v for k, v in compiled.series.items()}
    assert sorted(made) == sorted(pure.files)
    for key, values in made.items():
        assert values.dtype == pure[key].dtype, key
        np.testing.assert_array_equal(values, pure[key], err_msg=key)  # NaN equals NaN here


def test_a_compiled_module_older_than_its_source_is_not_used():
    """After a source is edited, the stamp written at the build no longer matches it, and
    every model module is then imported from its source."""
    built = sim.model._stamp()
    if not built:
        pytest.skip("the model is not compiled here")
    assert sim.model._current(built) == sim.model.COMPILED or os.environ.get("SIM_PURE_PYTHON") == "1"
    edited = {**built, "world": "0" * 64}
    assert not sim.model._current(edited)
    assert Path(sim.model.__file__).with_name("world.py").exists()
