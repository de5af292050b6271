"""Drawing one replication's inputs from a scenario's distributions.

A scenario may give any numeric parameter as a distribution. Before a replication runs,
each such parameter (except the few drawn by the model at every event, see
:data:`sim.scenario.schema.PerEvent`) is replaced by one draw, made by inverse transform from a uniform
number that belongs to the parameter's dotted path (``projects.reko_diq.phases.1.build_years``)
and to the replication. The result is an ordinary scenario holding plain numbers, which is
what the engine reads, and a mapping from dotted path to drawn value, which is saved beside
the outcomes so analysts can relate outcomes to inputs.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel

from ..scenario.distributions import Dist
from ..scenario.schema import PER_EVENT, Scenario
from .streams import Streams

Path = tuple[str | int, ...]
INPUT = "input:"
"""The prefix of an uncertain input's stream name; the rest is its dotted path."""


def dotted(path: Path) -> str:
    return ".".join(str(p) for p in path)


def _walk(obj: Any, path: Path) -> Iterator[tuple[Path, Dist]]:
    if isinstance(obj, Dist):
        yield path, obj
    elif isinstance(obj, BaseModel):
        for name, field in type(obj).model_fields.items():
            if PER_EVENT in field.metadata:
                continue  # drawn by the model at each event, not once per replication
            yield from _walk(getattr(obj, name), (*path, name))
    elif isinstance(obj, dict):
        for k, v in obj.items():
            yield from _walk(v, (*path, k))
    elif isinstance(obj, list | tuple):
        for i, v in enumerate(obj):
            yield from _walk(v, (*path, i))


def uncertain_inputs(scenario: Scenario) -> tuple[tuple[Path, Dist], ...]:
    """Every parameter given as a distribution, in schema order (remembered on the scenario,
    which forgets it when a copy of it is edited)."""
    remembered = scenario.private()
    found = remembered["_uncertain"]
    if found is None:
        found = remembered["_uncertain"] = tuple(_walk(scenario, ()))
    return found


def _stream_names(scenario: Scenario) -> tuple[str, ...]:
    """The stream each uncertain input draws from, :data:`INPUT` and its dotted path (remembered
    beside the inputs)."""
    remembered = scenario.private()
    found = remembered["_uncertain_streams"]
    if found is None:
        found = remembered["_uncertain_streams"] = tuple(INPUT + dotted(path) for path, _ in uncertain_inputs(scenario))
    return found


_setattr = object.__setattr__


def _replace(obj: Any, updates: dict[Any, Any]) -> Any:
    """A copy of ``obj`` with the nested ``updates`` applied (no re-validation): each model,
    mapping or list on the way to an update copied, everything else shared.

    A model is copied as pydantic's ``model_copy(update=...)`` copies it (its field values
    shallow-copied, the fields set marked, extra and private values copied), without the
    generic work around it, which a replication's dozen copies would spend at every set-up
    (a test compares the two)."""
    if isinstance(obj, BaseModel):
        cls = type(obj)
        copied = cls.__new__(cls)
        fields = obj.__dict__.copy()
        for k, v in updates.items():
            fields[k] = _replace(fields[k], v) if isinstance(v, dict) else v
        _setattr(copied, "__dict__", fields)
        _setattr(copied, "__pydantic_fields_set__", obj.__pydantic_fields_set__ | updates.keys())
        extra = obj.__pydantic_extra__
        _setattr(copied, "__pydantic_extra__", None if extra is None else dict(extra))
        private = obj.__pydantic_private__
        _setattr(copied, "__pydantic_private__", None if private is None else dict(private))
        return copied
    if isinstance(obj, dict | list):
        out: Any = dict(obj) if isinstance(obj, dict) else list(obj)
        for k, v in updates.items():
            out[k] = _replace(obj[k], v) if isinstance(v, dict) else v
        return out
    raise TypeError(f"cannot update {type(obj).__name__}")


def realize(scenario: Scenario, streams: Streams) -> tuple[Scenario, dict[str, float]]:
    """The scenario with every distribution replaced by this replication's draw."""
    inputs = uncertain_inputs(scenario)
    if not inputs:
        return scenario, {}
    drawn: dict[str, float] = {}
    tree: dict[Any, Any] = {}
    for (path, dist), stream in zip(inputs, _stream_names(scenario), strict=True):
        value = float(dist.ppf(streams.uniform(stream)))
        name = stream[len(INPUT):]
        drawn[name] = value
        node = tree
        for part in path[:-1]:
            node = node.setdefault(part, {})
        node[path[-1]] = value
    realized: Scenario = _replace(scenario, tree)
    realized.mark_edited()
    # Its distributions are all drawn now (those drawn at each event are not inputs).
    remembered = realized.private()
    remembered["_uncertain"] = remembered["_uncertain_streams"] = ()
    return realized, drawn
