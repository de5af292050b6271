"""The build: the package, with the model's hot modules compiled to C by mypyc where it can.

Everything else about the package is declared in ``pyproject.toml``. The modules in
:data:`COMPILED` (the world, the ledger, the projects and the parts that run at every event)
are translated to C by mypyc and built as extension modules beside their sources; a
replication then runs about 1.6 times as fast. The C is built with floating-point contraction
off (``-ffp-contract=off``), so no fused multiply-add changes a result: the compiled and
the pure-Python model give the same numbers bit for bit, and a test compares them.

Where that cannot be done (no C compiler, no Python headers, mypyc missing) the build says
so and the package installs as pure Python, which runs the same model more slowly. Set
``SIM_PURE_PYTHON=1`` to skip the compilation; set it when running to use the pure-Python
modules even where compiled ones are built (see ``sim/model/__init__.py``).
"""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

from setuptools import setup
from setuptools.command.build_ext import build_ext

ROOT = Path(__file__).resolve().parent
MODEL = ROOT / "src" / "sim" / "model"
COMPILED = ("accounting", "confidence", "distress", "draws", "finance", "governance", "hazard", "infrastructure",
            "lending", "market", "part", "processing", "program", "projects", "ramp", "refining",
            "sampling", "security", "streams", "tariffs", "world")
"""The model's modules compiled by mypyc (the names of ``src/sim/model/*.py``)."""
STAMP = "compiled.txt"
"""Written beside the compiled modules: the SHA-256 of each source they were built from."""


def sources_digest() -> str:
    """One line per compiled module: its name and its source's SHA-256."""
    return "".join(f"{name} {hashlib.sha256((MODEL / f'{name}.py').read_bytes()).hexdigest()}\n"
                   for name in COMPILED)


class OptionalBuild(build_ext):
    """Builds the compiled modules, or, if that fails, none of them (they call each other
    directly, so a partial set cannot be used) and the package stays pure Python."""

    def run(self) -> None:
        if not self.extensions:
            return
        try:
            super().run()
        except Exception as error:  # a missing compiler or header shows up as any of several errors
            for ext in self.extensions:
                built = Path(self.get_ext_fullpath(ext.name))
                built.unlink(missing_ok=True)
            print(f"warning: the model was not compiled ({error}); it installs as pure Python, "
                  "which gives the same results more slowly")
            return
        stamp = Path(self.get_ext_fullpath("sim.model.world")).with_name(STAMP)
        stamp.write_text(sources_digest())


BUILDS = {"build", "build_ext", "bdist_wheel", "editable_wheel", "develop", "install"}
"""The commands that build the package (metadata steps such as ``egg_info`` need no C)."""


def extensions() -> list:
    if os.environ.get("SIM_PURE_PYTHON") == "1" or not BUILDS.intersection(sys.argv[1:]):
        return []
    try:
        from mypyc.build import mypycify
    except ImportError:
        print("warning: mypyc is not available; the model installs as pure Python")
        return []
    os.environ["CFLAGS"] = (os.environ.get("CFLAGS", "") + " -ffp-contract=off").strip()
    options = ["--config-file=", "--ignore-missing-imports", "--follow-imports=silent", "--python-version=3.11"]
    here = os.getcwd()
    os.chdir(ROOT)  # mypyc names the modules from the paths it is given
    try:
        return mypycify([*options, *(f"src/sim/model/{name}.py" for name in COMPILED)],
                        opt_level="3", multi_file=True)
    except (Exception, SystemExit) as error:  # mypyc exits on a type error
        print(f"warning: mypyc could not translate the model ({error}); it installs as pure Python")
        return []
    finally:
        os.chdir(here)


setup(ext_modules=extensions(), cmdclass={"build_ext": OptionalBuild})
