"""A part of the world that plugs in: a shock, or another process of the world beside the mines.

The world of one replication (:mod:`sim.model.world`) has a core: the clock, the market,
investor confidence, the programme's phases, the projects, the refinery and the ledger.
Everything that happens *to* that core (China's export controls, the U.S. tariff, attacks,
outages, policy reversals, distress) is a part: one module with one class deriving from
:class:`Part`, and one :class:`Registration` that the world's :data:`~sim.model.world.PARTS`
lists. The world builds the registered parts in that order, each from its section of the
scenario, and calls their hooks:

- :meth:`Part.changed` after any event that may have changed the world's state (a gate, a
  site opening, a regime switch), so a Poisson process can re-read its rate;
- :meth:`Part.catch_up` before the world books a stretch and before a site's suspensions or
  its construction's end are read, for what a part simulates without events (outages);
- :meth:`Part.year_end` at the end of each model year, after the ledger has closed the
  year's row, for what is decided or counted yearly;
- :meth:`Part.outcomes` and :meth:`Part.series` at the horizon: the part's columns of the
  outcome table and of the time-series table, which its registration declares (name,
  unit, meaning, label), so the tables, summaries, labels, reports and the documentation
  read them from the module that makes them.

A part starts its processes when it is built (``world.env.process(...)``), as SimPy's own
models do; a single action at a later time needs no process (``world.at(t, action)``).
The registry's order is the order in which the world calls the parts' hooks, and a hook
can schedule events (a Poisson process re-reading its rate schedules a new wait), so
that order is part of what a replication's results are; a new part goes at the end, where
it changes nothing until it acts. A part acts on the world through what the world offers: a site's ``suspend`` and
``raise_security_cost``, ``world.confidence``, ``world.advance()`` before it changes
anything the ledger books (or ``world.catch_up()`` before it only suspends a site; a site
refuses to change without one or the other), ``world.changed()`` after, and a site's books for a transfer
(an arbitration award). The ledger still reads two parts by name, the tariff (the duty on
each flow) and China's controls (the routes and prices they leave open).
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mypy_extensions import mypyc_attr

from .columns import Column

if TYPE_CHECKING:
    import numpy as np

    from .world import World


@mypyc_attr(allow_interpreted_subclasses=True)  # a part may be defined outside the compiled model
class Part:
    """A part of the world; each hook does nothing unless the part overrides it (and the
    world calls only the hooks a part overrides)."""

    def changed(self) -> None:
        """The world's state may have changed: re-read what depends on it."""

    def catch_up(self, t: float) -> None:
        """Bring what the part simulates without events up to model time ``t``."""

    def year_end(self, year: int) -> None:
        """Model year ``year`` (1-based) has just ended; the ledger has closed its row."""

    def outcomes(self) -> dict[str, Any]:
        """The part's outcomes over the horizon: its registration's ``outcomes`` columns
        (each member of a family by name)."""
        return {}

    def series(self) -> dict[str, np.ndarray]:
        """The part's yearly series, one array of ``horizon`` values each: its
        registration's ``series`` columns."""
        return {}


@dataclass(frozen=True)
class Registration:
    """How the world builds a part: the name the world keeps it under (``world.part[name]``), its
    class, called as ``part(spec, world)`` with the scenario's section at the dotted path
    ``spec``, and the columns it fills in the outcome and the time-series tables."""

    name: str
    part: Callable[[Any, World], Part]
    spec: str
    outcomes: tuple[Column, ...] = ()
    series: tuple[Column, ...] = ()

    def build(self, world: World) -> Part:
        return self.part(operator.attrgetter(self.spec)(world.scenario), world)


def overriding(parts: list[Part], hook: str) -> list[Part]:
    """The parts that override ``hook``, in registry order: the world calls a hook only on
    those (it calls ``changed`` at every event; a no-op there costs), as a method of
    :class:`Part`, which compiled code calls without looking it up by name."""
    default = getattr(Part, hook)
    return [p for p in parts if getattr(type(p), hook) is not default]
