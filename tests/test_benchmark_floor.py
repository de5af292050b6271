"""The reference workload the benchmarks measure a replication against stays fixed.

``make bench`` divides a baseline replication's CPU time by that of bare SimPy stepping a
fixed event mix (``benchmarks/floor.py``). The ratio means something from one version of
the model to the next only if the reference does not move with it: the same events, in
the same number, every time.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

from floor import reference_replication  # noqa: E402

REFERENCE_EVENTS = 768
"""The events the reference stepped when it was set (issue 19's baseline mix: about 730)."""


def test_the_reference_workload_steps_the_same_events_every_time():
    assert reference_replication() == REFERENCE_EVENTS
    assert reference_replication() == REFERENCE_EVENTS
