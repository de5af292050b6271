"""The world being simulated, one module per part of it.

- :mod:`~sim.model.world`: the clock and the wiring of one replication.
- :mod:`~sim.model.projects`: mines, from exploration to output; :mod:`~sim.model.ramp`: ramp-up curves.
- :mod:`~sim.model.processing`: the domestic refinery and the routes output takes.
- :mod:`~sim.model.accounting`: value ladder, duties, cash flow, the yearly records.
- :mod:`~sim.model.market`: commodity prices.
- :mod:`~sim.model.confidence`: investor confidence.
- :mod:`~sim.model.program`: the three programme phases and stalling.
- Shocks: :mod:`~sim.model.security`, :mod:`~sim.model.refining`, :mod:`~sim.model.tariffs`,
  :mod:`~sim.model.infrastructure` and :mod:`~sim.model.governance`; :mod:`~sim.model.hazard` is their Poisson machinery.
- :mod:`~sim.model.part`: how a shock plugs into the world.

The modules that run at every event may be compiled (by mypyc, when the package is
installed; see ``setup.py``). The compiled modules are used only while every one of them
was built from the source beside it, as ``compiled.txt`` records; after a source is edited,
or with ``SIM_PURE_PYTHON=1`` in the environment, all of them run from their Python
sources instead. The two give the same results bit for bit. :data:`COMPILED` says which
one this process runs.
"""

from __future__ import annotations

import hashlib
import os
import sys
from importlib.machinery import ModuleSpec
from importlib.util import spec_from_file_location
from pathlib import Path

_HERE = Path(__file__).resolve().parent


def _stamp() -> dict[str, str]:
    """The compiled modules and the SHA-256 of the source each was built from (none if the
    model was not compiled)."""
    try:
        text = (_HERE / "compiled.txt").read_text()
    except OSError:
        return {}
    return dict(line.split() for line in text.splitlines() if line)


def _current(built: dict[str, str]) -> bool:
    """Whether every compiled module was built from the source beside it now."""
    for name, digest in built.items():
        source = _HERE / f"{name}.py"
        if not source.exists() or hashlib.sha256(source.read_bytes()).hexdigest() != digest:
            return False
    return bool(built)


class _FromSource:
    """Finds the named modules of this package at their Python sources, ahead of the
    extension modules beside them."""

    def __init__(self, names: list[str]):
        self.names = {f"{__name__}.{n}" for n in names}

    def find_spec(self, fullname: str, path: object = None, target: object = None) -> ModuleSpec | None:
        if fullname not in self.names:
            return None
        return spec_from_file_location(fullname, _HERE / f"{fullname.rsplit('.', 1)[1]}.py")


_built = _stamp()
COMPILED: bool = os.environ.get("SIM_PURE_PYTHON") != "1" and _current(_built)
"""Whether this process runs the compiled model (False: the pure-Python sources)."""
if _built and not COMPILED:
    sys.meta_path.insert(0, _FromSource(list(_built)))
