"""The scenario's parameters as rows: each field's meaning, unit, range and default, and each
value a scenario file sets with the source written beside it.

``sim params``, the report's table of parameters and sources, a run folder's record of its
parameters and the documentation's reference pages all read these rows, made from the same
objects the program uses: the pydantic classes of :mod:`sim.scenario.schema` (each field's
description, unit and bounds) and the scenario files themselves.

:func:`parameter_rows` walks the schema from :class:`~sim.scenario.schema.Scenario` down to its
leaf fields and returns one row per leaf, addressed by its dotted path. Where the schema
holds a mapping whose keys the scenario chooses (commodities, projects, provinces, ...)
the path carries a placeholder such as ``<commodity>``; where it holds a list of sections
(a project's phases, scheduled events) it carries ``<i>``. Given a scenario, the same walk
follows the scenario's actual keys and list items instead and adds each leaf's value.

:func:`baseline_sources` pairs each value set in ``scenarios/baseline.yaml`` with the
``# source:`` or ``# assumption:`` note written beside it (on the same line, on the comment
lines just above its key, or on the line of an enclosing key, for notes such as "assumption
throughout"). It reads the comments from the file text and takes the line of each key
from the scenario loader, so it needs no YAML parsing of its own.

:func:`parameter_table` gives the rows of any one scenario, for ``sim params``, the report
and a run folder. The documentation build turns these rows into its reference pages
(``docs/reference_pages.py``).

A few schema fields carry no description (labels, switches, dates of scheduled events).
Their meaning is supplied by :data:`EXTRA_MEANINGS` below; a new undocumented field has
none, and the test that every row has a meaning points to it.
"""

from __future__ import annotations

import functools
import math
import os
import re
import typing
from collections.abc import Iterator, Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from .distributions import Dist
from .schema import Scenario, is_model, range_text, strip_annotated, type_options

KEY_PLACEHOLDERS: dict[str, tuple[str, ...]] = {
    "commodities": ("commodity",),
    "projects": ("project",),
    "output": ("commodity",),
    "capacity": ("commodity",),
    "foreign_capacity": ("route", "commodity"),
    "routing": ("commodity",),
    "ramp_up_classes": ("class",),
    "provinces": ("province",),
    "consequences": ("severity",),
}
"""Placeholder path segments for mappings whose keys a scenario chooses, by field name."""

EXTRA_MEANINGS: dict[str, str] = {
    "Scenario.name": "Name used in titles and as the default output folder; the file's name "
                     "(without .yaml) when not given.",
    "Scenario.description": "Free text describing the scenario; not used by the model.",
    "ProjectPhase.label": "Name of the phase, used in the event log of `sim trace`.",
    "Project.label": "Descriptive name of the project.",
    "Refinery.enabled": "Whether the domestic refinery is pursued at all; if false it never "
                        "closes financing or runs, and its share of output goes abroad.",
    "Refinery.label": "Descriptive name of the refinery.",
    "ProvinceSecurity.initial_regime": "Security regime of the province at the start date.",
    "Infrastructure.enabled": "Switch for power, water and logistics outages.",
    "Security.enabled": "Switch for the security shock family (attacks on the sector).",
    "Refining.enabled": "Switch for China's export-control regime; when off the regime stays "
                        "open and the technology ban is lifted.",
    "ScheduledRegime.date": "When China's regime changes (a date, or model years).",
    "ScheduledRegime.regime": "The regime it changes to.",
    "Tariff.enabled": "Switch for the U.S. tariff shock family; when off there are no duties.",
    "TariffStep.date": "When the scheduled rate takes effect (a date, or model years).",
}
"""Meanings for schema fields that carry no description of their own."""

_NUMBER_TYPE = "number or distribution"
_NONE = type(None)


# --- walking the schema ----------------------------------------------------------------

def _options(annotation: Any) -> tuple[list[Any], bool]:
    """The alternatives of a union (each stripped of ``Annotated``), and whether None is one."""
    options = type_options(annotation)
    return [o for o in options if o is not _NONE], _NONE in options


def _type_text(annotation: Any) -> str:
    """How a leaf's type reads in the reference: number or distribution, date, text, ..."""
    options, optional = _options(annotation)
    text = _describe_options(options)
    return f"{text}, or empty" if optional else text


def _describe_options(options: list[Any]) -> str:
    if Dist in options:
        return _NUMBER_TYPE
    if set(options) == {date, float}:
        return "date (YYYY-MM-DD) or model years"
    if len(options) != 1:
        return " or ".join(_describe_options([o]) for o in options)
    only = options[0]
    origin = typing.get_origin(only)
    if origin is Literal:
        return "one of: " + ", ".join(str(v) for v in typing.get_args(only))
    if origin is list:
        return "list of " + _plural(_describe_options([strip_annotated(typing.get_args(only)[0])]))
    names = {bool: "true/false", int: "whole number", float: "number", str: "text", date: "date"}
    if only in names:
        return names[only]
    return getattr(only, "__name__", str(only))


def _plural(text: str) -> str:
    return {"number": "numbers", "whole number": "whole numbers", "text": "texts",
            "date": "dates", _NUMBER_TYPE: "numbers or distributions"}.get(text, text)


def _unit(field: FieldInfo, annotation: Any) -> str:
    extra = field.json_schema_extra
    if isinstance(extra, dict) and extra.get("unit"):
        return str(extra["unit"])
    options, _ = _options(annotation)
    if date in options:
        return "date" if float not in options else "date or yr"
    return "-"


def _bounds(field: FieldInfo) -> dict[str, float]:
    extra = field.json_schema_extra
    if not isinstance(extra, dict):
        return {}
    return {k: float(v) for k, v in extra.items()  # type: ignore[arg-type]
            if k in ("ge", "gt", "le", "lt")}


def _default_text(field: FieldInfo) -> str:
    if field.default_factory is not None:
        made = field.default_factory()  # type: ignore[call-arg]
        return _value_text(made) if made not in ([], {}) else "empty"
    if field.is_required():
        return "required"
    if field.default is None:
        return "empty"
    return _value_text(field.default)


def _meaning(model: type[BaseModel], name: str, field: FieldInfo, context: str) -> str:
    text = field.description or EXTRA_MEANINGS.get(f"{model.__name__}.{name}", "")
    if context and text:
        if len(text) > 1 and text[0].isupper() and text[1].islower():
            text = text[0].lower() + text[1:]
        text = f"{context.rstrip('.')}: {text}"
    return text


_MISSING = object()


def _walk(model: type[BaseModel], pattern: tuple[str, ...], path: tuple[str, ...],
          instance: Any, context: str) -> Iterator[dict[str, Any]]:
    for name, field in model.model_fields.items():
        value = getattr(instance, name) if instance is not _MISSING else _MISSING
        yield from _field(model, name, field, field.annotation,
                          (*pattern, name), (*path, name), value, context)


def _field(model: type[BaseModel], name: str, field: FieldInfo, annotation: Any,
           pattern: tuple[str, ...], path: tuple[str, ...], value: Any,
           context: str) -> Iterator[dict[str, Any]]:
    options, _ = _options(annotation)
    only = options[0] if len(options) == 1 else None
    if only is not None and is_model(only):
        if value is None:
            return
        inner = field.description or ""
        yield from _walk(only, pattern, path, value, inner)
        return
    origin = typing.get_origin(only) if only is not None else None
    if origin is dict:
        yield from _mapping(model, name, field, only, pattern, path, value, depth=0)
        return
    if origin is list and is_model(strip_annotated(typing.get_args(only)[0])):
        item = strip_annotated(typing.get_args(only)[0])
        if value is _MISSING:
            yield from _walk(item, (*pattern, "<i>"), (*path, "<i>"), _MISSING, "")
        else:
            for i, entry in enumerate(value or []):
                yield from _walk(item, (*pattern, "<i>"), (*path, str(i)), entry, "")
        return
    yield _row(model, name, field, annotation, pattern, path, value, context)


def _mapping(model: type[BaseModel], name: str, field: FieldInfo, annotation: Any,
             pattern: tuple[str, ...], path: tuple[str, ...], value: Any,
             depth: int) -> Iterator[dict[str, Any]]:
    """A ``dict[K, V]`` field: a placeholder segment for K, then V (a section or a leaf)."""
    names = KEY_PLACEHOLDERS.get(name, ())
    placeholder = f"<{names[depth]}>" if depth < len(names) else "<key>"
    inner = strip_annotated(typing.get_args(annotation)[1])
    if value is _MISSING:
        keys: list[tuple[str, Any]] = [(placeholder, _MISSING)]
    else:
        keys = [(str(k), v) for k, v in (value or {}).items()]
    for key, entry in keys:
        sub_pattern, sub_path = (*pattern, placeholder), (*path, key)
        if is_model(inner):
            yield from _walk(inner, sub_pattern, sub_path, entry, "")
        elif typing.get_origin(inner) is dict:
            yield from _mapping(model, name, field, inner, sub_pattern, sub_path, entry,
                                depth + 1)
        else:
            yield _row(model, name, field, inner, sub_pattern, sub_path, entry, "")


def _row(model: type[BaseModel], name: str, field: FieldInfo, annotation: Any,
         pattern: tuple[str, ...], path: tuple[str, ...], value: Any,
         context: str) -> dict[str, Any]:
    row: dict[str, Any] = {
        "path": ".".join(path),
        "unit": _unit(field, annotation),
        "range": range_text(_bounds(field)),
        "type": _type_text(annotation),
        "meaning": _meaning(model, name, field, context),
        "default": _default_text(field) if pattern[-1] == name else "required",
        "model": model.__name__,
        "field": name,
    }
    if value is not _MISSING:
        row["pattern"] = ".".join(pattern)
        row["value"] = _value_text(value)
    return row


def parameter_rows(scenario: Scenario | None = None) -> list[dict[str, Any]]:
    """One row per leaf field of the scenario schema, in schema order.

    Each row has ``path`` (dotted, with placeholders such as ``<commodity>`` and ``<i>``),
    ``unit``, ``range`` (e.g. ``>= 0 and <= 40``; empty if unbounded), ``type``, ``meaning``,
    ``default`` (the schema default, or ``required``), and ``model`` and ``field`` (the
    schema class and field it comes from). Entries of a mapping or list are required once
    the mapping or list has them, so their ``default`` is ``required``.

    Given a scenario, the rows follow its actual keys and list items: ``path`` is concrete
    (``projects.reko_diq.phases.1.build_years``), ``pattern`` is the placeholder path and
    ``value`` is the scenario's value as text (a distribution as ``triangular(low=1, ...)``).
    """
    instance: Any = _MISSING if scenario is None else scenario
    return list(_walk(Scenario, (), (), instance, ""))


# --- values as text ----------------------------------------------------------------------

def _number_text(x: float) -> str:
    if math.isfinite(x) and x == round(x) and abs(x) < 1e15:
        return f"{int(x):,}"
    return f"{x:g}"


def _value_text(value: Any) -> str:
    if value is None or value == "":
        return "empty"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, Dist):
        return value.describe()
    if isinstance(value, int | float):
        return _number_text(float(value))
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return ", ".join(_value_text(v) for v in value) if value else "empty"
    if isinstance(value, BaseModel):
        return "(section)"
    return str(value)


# --- sources of the baseline values ------------------------------------------------------

_NOTE = re.compile(r"^(source|assumption|fitted)\b", re.IGNORECASE)


def _comment(line: str) -> str | None:
    """The comment of a YAML line (after an unquoted ``#``), or None."""
    quote = ""
    for i, ch in enumerate(line):
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and (i == 0 or line[i - 1] in " \t"):
            return line[i + 1:].strip()
    return None


def _note(comment: str | None) -> str:
    return comment if comment and _NOTE.match(comment) else ""


def _note_at(lines: list[str], number: int) -> str:
    """The note for the key on line ``number`` (1-based): a ``source:`` or ``assumption:``
    comment on the line itself, else the block of comment lines right above it (unless that
    block is the file's opening comment)."""
    if not 1 <= number <= len(lines):
        return ""
    own = _note(_comment(lines[number - 1]))
    if own:
        return own
    k = number - 2
    block: list[str] = []
    while k >= 0 and lines[k].lstrip().startswith("#"):
        block.insert(0, _comment(lines[k]) or "")
        k -= 1
    if k < 0:
        return ""
    return " ".join(b for b in block if b)


def _file_notes(path: str | os.PathLike[str]) -> dict[str, str]:
    """Every path set in the scenario file (and the files it extends), with its note or ""
    (a copy; remembered per file while the file is unchanged)."""
    real = os.path.realpath(path)
    stat = os.stat(real)
    return dict(_file_notes_of(real, stat.st_mtime_ns, stat.st_size))


@functools.lru_cache(maxsize=64)
def _file_notes_of(path: str, _mtime_ns: int, _size: int) -> dict[str, str]:
    """Every path set in the scenario file (and the files it extends), with its note or "".

    A value takes its note from the file that set it: the note on its own line or above its
    key, else the note of the nearest enclosing key *in that same file*, so a child file that
    touches a section neither hides nor lends notes to values its parent set.
    """
    from .files import resolve_document

    top = os.fspath(path)
    _, locations = resolve_document(top)
    texts: dict[str, list[str]] = {}
    parents: dict[str, dict[str, str]] = {}
    notes: dict[str, str] = {}
    for loc, (file, line) in locations.items():
        if file == "--set" or line is None:
            continue
        name = ".".join(str(p) for p in loc)
        if os.path.realpath(file) != os.path.realpath(top):
            if file not in parents:
                parents[file] = _file_notes(file)
            notes[name] = parents[file].get(name, "")
            continue
        if file not in texts:
            texts[file] = Path(file).read_text(encoding="utf-8").splitlines()
        found = ""
        for n in range(len(loc), 0, -1):
            where = locations.get(loc[:n])
            if where is None or where[0] != file or where[1] is None:
                continue
            found = _note_at(texts[file], where[1])
            if found:
                break
        notes[name] = found
    return notes


def baseline_sources(path: str | os.PathLike[str]) -> dict[str, str]:
    """The ``source:`` or ``assumption:`` note of each value set in a scenario file.

    Keys are dotted paths as in the outcome table (``projects.reko_diq.phases.0.capex_usd``);
    values are the note's text. A value takes the ``source:`` or ``assumption:`` comment on
    its own line, else the comment lines just above its key, else the note of the nearest
    enclosing key (so ``foreign_capacity:  # assumption throughout`` covers every capacity
    beneath it). Values with no note are left out. Best effort: comments are matched to keys
    by the line the scenario loader records for each key.
    """
    return {k: v for k, v in _file_notes(path).items() if v}


def _commodity_unit(row: dict[str, Any], goods: Mapping[str, str]) -> str:
    """The row's unit with "unit" replaced by its commodity's unit (``USD/unit`` -> ``USD/t``)."""
    pattern, path = row["pattern"].split("."), row["path"].split(".")
    if "<commodity>" in pattern and len(pattern) == len(path):
        good = goods.get(path[pattern.index("<commodity>")])
        if good:
            return re.sub(r"\bunit\b", good, row["unit"])
    return str(row["unit"])


# --- the parameter table of one scenario (sim params) ------------------------------------

def parameter_table(path: str | os.PathLike[str], overrides: Mapping[str, Any] | Sequence[str] = ()) -> list[dict[str, str]]:
    """Every parameter of a scenario after ``extends`` and overrides, with its provenance.

    One row per leaf: ``path`` (concrete dotted path), ``value`` (a distribution as
    ``triangular(low=1, ...)``), ``unit``, ``range`` and ``source``: the ``source:`` or
    ``assumption:`` note written beside the value in the scenario file or a file it extends,
    ``set on the command line`` for an override, ``schema default`` for a value no file sets,
    or ``no source given``. Raises :class:`~sim.errors.ScenarioError` for a bad scenario.
    """
    from .files import load_scenario, parse_override

    scenario = load_scenario(path, overrides)
    notes = _file_notes(path)
    goods = {c: spec.unit for c, spec in scenario.commodities.items()}  # type: ignore[attr-defined]
    if isinstance(overrides, Mapping):
        overridden = [str(k) for k in overrides]
    else:
        overridden = [parse_override(text)[0] for text in overrides]
    rows = []
    for row in parameter_rows(scenario):  # type: ignore[arg-type]
        p = row["path"]
        if any(p == o or p.startswith(o + ".") for o in overridden):
            source = "set on the command line"
        elif p in notes:
            source = notes[p] or "no source given"
        else:
            source = "schema default"
        rows.append({"path": p, "value": row.get("value", ""), "unit": _commodity_unit(row, goods),
                     "range": row["range"], "source": source})
    return rows


def file_question(path: str | os.PathLike[str]) -> str:
    """The question a scenario file asks: the first paragraph of the comment at its top,
    as plain text ("" if it has none)."""
    lines: list[str] = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            break
        text = line.lstrip("#").strip()
        if not text and lines:
            break
        if text:
            lines.append(text)
    return " ".join(lines)
