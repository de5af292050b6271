"""Reading scenario files: YAML in, a validated scenario out, or a list of what is wrong.

A scenario is one YAML file holding a mapping. It may start from another file with
``extends: base.yaml`` (a path relative to the extending file's folder): the two are deep
merged, mappings key by key, while a list, a single value or a distribution (a mapping
with ``dist:``) in the child replaces the parent's. A project the child sets
``enabled: false`` is left out of the run. Chains of ``extends`` are allowed; a cycle is an error. After that, overrides
from the command line (``--set projects.reko_diq.phases.1.capex_usd=4e9``, the value read
as YAML) or from Python code (a mapping of dotted paths to values) are applied in order.
Whole numbers in a path index into lists.

Files are read defensively: at most 1 MiB, UTF-8, one YAML document whose top is a
mapping, no duplicate keys (plain YAML silently keeps the last one), and no anchors,
aliases or merge keys (``&a``, ``*a``, ``<<``). Those are refused before anything is
expanded, so a "billion laughs" file fails at once instead of filling memory. Only
standard YAML values are understood (numbers, text, true/false, null, dates), and numbers
must be usable: ``.nan``, ``.inf`` and integers too large for a float are refused wherever
they appear.
Mapping keys are always kept as the text written in the file, so ``on:`` stays ``"on"``.

While reading, the loader remembers the file and line where every key and list item was
set, and which ones came from an override. When validation against the schema fails,
each error is reported at the line that set the offending value, in the file that set it
(the child or one of its parents, or ``--set``). All problems found are collected and
raised together as one :class:`~sim.errors.ScenarioError`, so a file can be fixed in one
pass.
"""

from __future__ import annotations

import copy
import dataclasses
import difflib
import math
import os
import re
import stat
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, overload

import yaml
from pydantic import BaseModel, ValidationError

from ..errors import Problem, ScenarioError, UsageError
from .schema import is_model, item_type, type_options

MAX_FILE_BYTES = 1024 * 1024
"""Scenario files larger than this (1 MiB) are refused."""

MAX_NESTING = 64
"""Mappings and lists nested deeper than this are refused."""

OVERRIDE_FILE = "--set"
"""The file name given to problems and locations that come from overrides."""

_SET_HERE: tuple[str, None] = (OVERRIDE_FILE, None)
_MAP_TAG = "tag:yaml.org,2002:map"
_SEQ_TAG = "tag:yaml.org,2002:seq"
_NO_ANCHORS = (
    "anchors (&name), aliases (*name) and merge keys (<<) are not allowed in scenario files; "
    "write the values out in full (use `extends:` to share settings between files)"
)

Path_ = tuple[str | int, ...]
Locations = dict[Path_, tuple[str, int | None]]


# ---------------------------------------------------------------------------------------
# Public functions
# ---------------------------------------------------------------------------------------


if TYPE_CHECKING:
    from .schema import Scenario

M = TypeVar("M", bound=BaseModel)


@overload
def load_scenario(path: str | os.PathLike, overrides: Sequence[str] | Mapping[str, Any] = (), *,
                  model: None = None) -> Scenario: ...
@overload
def load_scenario(path: str | os.PathLike, overrides: Sequence[str] | Mapping[str, Any] = (), *,
                  model: type[M]) -> M: ...
def load_scenario(
    path: str | os.PathLike,
    overrides: Sequence[str] | Mapping[str, Any] = (),
    *,
    model: type[BaseModel] | None = None,
) -> BaseModel:
    """Read, merge, override and validate a scenario file.

    ``model`` is the pydantic class to validate against (``sim.scenario.schema.Scenario`` unless
    given). If the model has a ``name`` field and the scenario sets none, the file's stem
    is used. If the validated object has a ``cross_check()`` method, the problems it
    yields as ``(loc, message, value)`` are reported too.

    A :class:`~sim.scenario.schema.Scenario` comes back carrying its origin: the file, the files
    it extends and the overrides.

    Raises ScenarioError listing every problem.
    """
    data, locations = resolve_document(path, overrides)
    return _validated(os.fspath(path), data, locations, overrides, model)


def load_scenarios(path: str | os.PathLike, each: Iterable[Sequence[str] | Mapping[str, Any]], *,
                   model: type[BaseModel] | None = None) -> Iterator[BaseModel]:
    """:func:`load_scenario` of ``path`` with each of ``each``'s overrides in turn, the file
    (and the files it extends) read once: for the points of a sweep."""
    file = os.fspath(path)
    document, problems = _read_document(file)
    for overrides in each:
        data, locations = _overridden(copy.deepcopy(document), list(problems), overrides)
        yield _validated(file, data, locations, overrides, model)


def _validated(file: str, data: dict, locations: Locations, overrides: Sequence[str] | Mapping[str, Any],
               model: type[BaseModel] | None) -> BaseModel:
    result = validate_document(data, locations, file, model=model)
    if hasattr(result, "with_origin"):
        from .schema import Origin

        files = tuple(dict.fromkeys([file, *(f for f, _ in locations.values() if f != "--set")]))
        result.with_origin(Origin(file=file, files=files, overrides=tuple(override_texts(overrides))))
    return result


def override_texts(overrides: Mapping[str, Any] | Sequence[str] | None) -> list[str]:
    """Overrides as ``"path=value"`` strings (values written as YAML), whatever form they came in."""
    if not overrides:
        return []
    if isinstance(overrides, str):
        raise UsageError(f"set: give a mapping or a list of 'path=value' strings, not the string {overrides!r}")
    if isinstance(overrides, Mapping):
        return [f"{k}={_as_yaml(v)}" for k, v in overrides.items()]
    return [str(t) for t in overrides]


def _as_yaml(value: Any) -> str:
    return yaml.safe_dump(value, default_flow_style=True, width=10**6).strip().removesuffix("...").strip()


def validate_document(
    data: dict,
    locations: Locations,
    top_file: str,
    *,
    model: type[BaseModel] | None = None,
) -> BaseModel:
    """Validate plain data that :func:`resolve_document` returned (``locations`` says where
    each part was set; ``top_file`` is the file that was read): the second half of
    :func:`load_scenario`. ``data`` may be changed (a missing ``name`` is filled in).

    Raises ScenarioError listing every problem.
    """
    if model is None:
        model = _default_model()
    if "name" in model.model_fields and "name" not in data:
        data["name"] = Path(top_file).stem

    unusable = list(_unusable_numbers(data, (), locations, top_file))
    try:
        scenario = model.model_validate(data)
    except ValidationError as exc:
        problems = _validation_problems(exc, data, locations, top_file, model)
        seen = {p.path for p in unusable}
        problems = unusable + [p for p in problems if p.path not in seen]
        raise ScenarioError(_in_file_order(problems)) from None
    if unusable:
        raise ScenarioError(_in_file_order(unusable))

    problems = _cross_check_problems(scenario, locations, top_file)
    if problems:
        raise ScenarioError(_in_file_order(problems))
    return scenario


def resolve_document(
    path: str | os.PathLike,
    overrides: Sequence[str] | Mapping[str, Any] = (),
) -> tuple[dict, Locations]:
    """The merged plain data (after extends and overrides, before validation) and where
    each part was set.

    The second item maps each path tuple (keys as str, list indices as int) to
    ``(file, line)``; values set by an override map to ``("--set", None)``.
    Raises ScenarioError listing every problem.
    """
    return _overridden(*_read_document(os.fspath(path)), overrides)


def _read_document(top_file: str) -> tuple[tuple[dict, Locations], list[Problem]]:
    """The file and the files it extends, merged, and the problems found in them (raised
    with the overrides' problems). Raises ScenarioError if nothing could be merged."""
    problems: list[Problem] = []
    document = _load_with_parents(top_file, [], problems)
    if document is None:
        raise ScenarioError(_in_file_order(problems))
    return document, problems


def _overridden(document: tuple[dict, Locations], problems: list[Problem],
                overrides: Sequence[str] | Mapping[str, Any]) -> tuple[dict, Locations]:
    """``document`` (changed in place) with ``overrides`` set; raises ScenarioError listing
    ``problems`` and the overrides' own."""
    data, locations = document
    for path_text, value in _override_items(overrides, problems):
        _set_path(data, locations, path_text, value, problems)
    if problems:
        raise ScenarioError(_in_file_order(problems))
    return data, locations


def parse_override(text: str) -> tuple[str, Any]:
    """Split ``"a.b.c=value"`` into ``("a.b.c", value)``, the value read as YAML.

    Raises ScenarioError if the text is not of that form or the value is not valid YAML.
    """
    problems: list[Problem] = []
    parsed = _parse_override(text, problems)
    if parsed is None:
        raise ScenarioError(problems)
    return parsed


def _default_model() -> type[BaseModel]:
    from .schema import Scenario

    return Scenario


# ---------------------------------------------------------------------------------------
# Files and extends
# ---------------------------------------------------------------------------------------


def _load_with_parents(
    file: str, chain: list[str], problems: list[Problem]
) -> tuple[dict, Locations] | None:
    """Load ``file`` and, through ``extends``, its parents, merged. None if it failed.

    ``chain`` lists the files that extend this one, outermost first.
    """
    document = _load_file(file, problems)
    if document is None:
        return None
    data, locations = document
    if "extends" not in data:
        return data, locations

    line = locations[("extends",)][1]
    target = data.pop("extends")
    _drop_under(locations, ("extends",))
    if not isinstance(target, str) or not target.strip():
        problems.append(
            Problem(
                file,
                line,
                "extends",
                "must name one scenario file, e.g. `extends: base.yaml`",
                target,
            )
        )
        return None

    parent = os.path.normpath(os.path.join(os.path.dirname(file), target))
    followed = [*chain, file]
    if os.path.realpath(parent) in {os.path.realpath(f) for f in followed}:
        cycle = " -> ".join([*followed, parent])
        problems.append(Problem(file, line, "extends", f"extends goes round in a cycle: {cycle}"))
        return None
    if not os.path.exists(parent):
        problems.append(Problem(file, line, "extends", f"parent file not found: {parent}", target))
        return None

    inherited = _load_with_parents(parent, followed, problems)
    if inherited is None:
        return None
    return _merge_documents(inherited, (data, locations))


def _load_file(file: str, problems: list[Problem]) -> tuple[dict, Locations] | None:
    """One file's data and locations, ignoring ``extends``. None if it cannot be read."""
    text = _read_text(file, problems)
    if text is None:
        return None
    found: list[Problem] = []
    node = _compose(text, file, found)
    problems.extend(found)
    if found:
        return None
    if node is None:
        problems.append(Problem(file, None, "", "the file is empty (or holds only comments)"))
        return None
    if not isinstance(node, yaml.MappingNode):
        kind = "a list" if isinstance(node, yaml.SequenceNode) else "a single value"
        problems.append(
            Problem(
                file,
                _line_of(node),
                "",
                f"the file must hold a mapping (`key: value` lines) at the top, not {kind}",
            )
        )
        return None
    locations: Locations = {}
    data = _build(node, file, (), locations, problems, yaml.constructor.SafeConstructor())
    return data, locations


def _read_text(file: str, problems: list[Problem]) -> str | None:
    """The file's text, or None after recording why it cannot be read."""

    def refuse(message: str, line: int | None = None) -> str | None:
        """Record why the file cannot be read; None, to return."""
        problems.append(Problem(file, line, "", message))
        return None

    try:
        info = os.stat(file)
    except FileNotFoundError:
        return refuse("file not found")
    except OSError as exc:
        return refuse(f"cannot read the file: {exc.strerror or exc}")
    if stat.S_ISDIR(info.st_mode):
        return refuse("this is a folder, not a scenario file")
    if not stat.S_ISREG(info.st_mode):
        return refuse("not a regular file")
    if info.st_size > MAX_FILE_BYTES:
        return refuse(_too_large(f"{info.st_size:,} bytes"))

    try:
        with open(file, "rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        return refuse(f"cannot read the file: {exc.strerror or exc}")
    if len(raw) > MAX_FILE_BYTES:
        return refuse(_too_large(f"more than {MAX_FILE_BYTES:,} bytes"))

    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        bad = raw[exc.start : exc.start + 1].hex()
        return refuse(f"the file is not UTF-8 text (byte 0x{bad} cannot be read)", line)


def _too_large(size: str) -> str:
    return f"the file is too large: {size}; scenario files are limited to 1 MiB ({MAX_FILE_BYTES:,} bytes)"


def _merge_documents(
    parent: tuple[dict, Locations], child: tuple[dict, Locations]
) -> tuple[dict, Locations]:
    """The child deep-merged over the parent, with the locations that go with it."""
    parent_data, parent_locations = parent
    child_data, child_locations = child
    replaced: set[Path_] = set()
    data = _deep_merge(parent_data, child_data, (), replaced)
    locations = {
        path: where
        for path, where in parent_locations.items()
        if not any(path[:n] in replaced for n in range(1, len(path) + 1))
    }
    locations.update(child_locations)
    return data, locations


def _deep_merge(parent: dict, child: dict, path: Path_, replaced: set[Path_]) -> dict:
    """Mappings merge key by key; anything else in the child replaces the parent's value,
    and so does a distribution (a mapping with ``dist:``), whole: a child's ``uniform``
    keeps nothing of the parent's ``triangular``.

    The paths where the child replaced a parent's value are added to ``replaced``.
    """
    merged = dict(parent)
    for key, value in child.items():
        if isinstance(merged.get(key), dict) and isinstance(value, dict) and "dist" not in value:
            merged[key] = _deep_merge(merged[key], value, (*path, key), replaced)
        else:
            if key in merged:
                replaced.add((*path, key))
            merged[key] = value
    return merged


def _drop_under(locations: Locations, prefix: Path_) -> None:
    """Forget the locations of ``prefix`` and everything below it."""
    for path in [p for p in locations if p[: len(prefix)] == prefix]:
        del locations[path]


# ---------------------------------------------------------------------------------------
# YAML text to plain data
# ---------------------------------------------------------------------------------------


class _Loader(yaml.SafeLoader):
    """SafeLoader that also reads ``5.5e9`` and ``1e-3`` as numbers.

    YAML 1.1 (PyYAML's dialect) needs a dot and a signed exponent (``5.5e+9``) and reads
    ``5.5e9`` as text; YAML 1.2 and every analyst read it as a number.
    """


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9_]+)[eE][-+]?[0-9]+$"),
    list("-+0123456789."),
)


def _compose(text: str, file: str, problems: list[Problem]) -> yaml.Node | None:
    """The YAML node tree of ``text``, or None (empty text, or problems recorded).

    The event stream is checked first, so that anchors and aliases are refused before
    anything could expand them.
    """
    if not _events_are_safe(text, file, problems):
        return None
    try:
        return yaml.compose(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        problems.append(_syntax_problem(exc, file, text))
        return None


def _events_are_safe(text: str, file: str, problems: list[Problem]) -> bool:
    """Scan the YAML events: syntax, anchors and aliases, nesting depth, one document."""
    alias_lines: set[int] = set()
    depth = 0
    documents = 0
    try:
        for event in yaml.parse(text, Loader=_Loader):
            line = event.start_mark.line + 1 if event.start_mark is not None else 0
            if _is_anchor_alias_or_merge(event) and line not in alias_lines:
                alias_lines.add(line)
                problems.append(Problem(file, line, "", _NO_ANCHORS))
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_NESTING:
                    message = f"mappings and lists are nested more than {MAX_NESTING} levels deep"
                    problems.append(Problem(file, line, "", message))
                    return False
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
            elif isinstance(event, yaml.DocumentStartEvent):
                documents += 1
                if documents > 1:
                    message = "a second YAML document (`---`) is not allowed: one scenario per file"
                    problems.append(Problem(file, line, "", message))
                    return False
    except yaml.YAMLError as exc:
        problems.append(_syntax_problem(exc, file, text))
        return False
    return not alias_lines


def _is_anchor_alias_or_merge(event: yaml.Event) -> bool:
    if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
        return True
    # A plain (unquoted) `<<` is YAML's merge key.
    return isinstance(event, yaml.ScalarEvent) and event.value == "<<" and event.implicit[0]


def _syntax_problem(exc: yaml.YAMLError, file: str, text: str) -> Problem:
    line: int | None
    if isinstance(exc, yaml.reader.ReaderError):
        line = text.count("\n", 0, exc.position) + 1
        message = f"character {chr(exc.character)!r} ({exc.reason}) is not allowed in YAML"
        return Problem(file, line, "", message)
    mark = getattr(exc, "problem_mark", None)
    line = mark.line + 1 if mark is not None else None
    problem = str(getattr(exc, "problem", None) or exc)
    if "\\t" in problem or "tab" in problem:
        message = "YAML syntax error: a tab character; YAML is indented with spaces, not tabs: indent with spaces"
        return Problem(file, line, "", message)
    message = f"YAML syntax error: {problem}"
    context = getattr(exc, "context", None)
    context_mark = getattr(exc, "context_mark", None)
    if context and context_mark is not None:
        message += f" ({context} that starts on line {context_mark.line + 1})"
    elif context:
        message += f" ({context})"
    return Problem(file, line, "", message)


def _build(
    node: yaml.Node,
    file: str,
    path: Path_,
    locations: Locations,
    problems: list[Problem],
    constructor: yaml.constructor.SafeConstructor,
) -> Any:
    """Plain python data for ``node``, recording where each key and list item was set."""
    if isinstance(node, yaml.MappingNode):
        _refuse_tag(node, _MAP_TAG, file, path, problems)
        return _build_mapping(node, file, path, locations, problems, constructor)
    if isinstance(node, yaml.SequenceNode):
        _refuse_tag(node, _SEQ_TAG, file, path, problems)
        items = []
        for index, item in enumerate(node.value):
            locations[(*path, index)] = (file, _line_of(item))
            items.append(_build(item, file, (*path, index), locations, problems, constructor))
        return items
    assert isinstance(node, yaml.ScalarNode)  # a YAML node is a mapping, a sequence or a scalar
    return _build_scalar(node, file, path, problems, constructor)


def _build_mapping(
    node: yaml.MappingNode,
    file: str,
    path: Path_,
    locations: Locations,
    problems: list[Problem],
    constructor: yaml.constructor.SafeConstructor,
) -> dict:
    mapping: dict[str, Any] = {}
    first_seen: dict[str, int] = {}
    for key_node, value_node in node.value:
        line = _line_of(key_node)
        if not isinstance(key_node, yaml.ScalarNode):
            problems.append(Problem(file, line, _dotted(path), "a key must be plain text"))
            continue
        key = key_node.value
        key_path = (*path, key)
        if key in first_seen:
            message = (
                f"duplicate key: already set on line {first_seen[key]} "
                "(YAML would silently keep only the last one)"
            )
            problems.append(Problem(file, line, _dotted(key_path), message))
            continue
        first_seen[key] = line
        locations[key_path] = (file, line)
        mapping[key] = _build(value_node, file, key_path, locations, problems, constructor)
    return mapping


def _build_scalar(
    node: yaml.ScalarNode,
    file: str,
    path: Path_,
    problems: list[Problem],
    constructor: yaml.constructor.SafeConstructor,
) -> Any:
    try:
        return constructor.construct_object(node, deep=True)
    except yaml.YAMLError as exc:
        reason = getattr(exc, "problem", None) or str(exc)
    except (ValueError, TypeError, OverflowError) as exc:
        reason = str(exc)
    message = f"cannot read this value: {reason}"
    if node.tag == "tag:yaml.org,2002:timestamp":
        message = f"not a date in the calendar ({reason}); dates are written YYYY-MM-DD"
    problems.append(Problem(file, _line_of(node), _dotted(path), message, node.value))
    return None


def _refuse_tag(
    node: yaml.Node, expected: str, file: str, path: Path_, problems: list[Problem]
) -> None:
    if node.tag != expected:
        message = f"YAML tag {node.tag!r} is not supported in scenario files"
        problems.append(Problem(file, _line_of(node), _dotted(path), message))


def _line_of(node: yaml.Node) -> int:
    return node.start_mark.line + 1


# ---------------------------------------------------------------------------------------
# Overrides
# ---------------------------------------------------------------------------------------


def _override_items(
    overrides: Sequence[str] | Mapping[str, Any], problems: list[Problem]
) -> list[tuple[str, Any]]:
    """The overrides as (dotted path, value) pairs, in order."""
    items: list[tuple[str, Any]] = []
    if isinstance(overrides, Mapping):
        for key, value in overrides.items():
            if isinstance(key, str):
                items.append((key.strip(), copy.deepcopy(value)))
            else:
                problems.append(
                    Problem(
                        OVERRIDE_FILE,
                        None,
                        str(key),
                        "an override path must be text like `a.b.c`",
                        key,
                    )
                )
        return items
    if isinstance(overrides, str):
        overrides = [overrides]
    for text in overrides:
        parsed = _parse_override(text, problems)
        if parsed is not None:
            items.append(parsed)
    return items


def _parse_override(text: Any, problems: list[Problem]) -> tuple[str, Any] | None:
    if not isinstance(text, str) or "=" not in text:
        shown = text.strip() if isinstance(text, str) else ""
        message = "expected PATH=VALUE, e.g. `horizon_years=30`"
        problems.append(Problem(OVERRIDE_FILE, None, shown, message, text))
        return None
    path_text, value_text = (part.strip() for part in text.split("=", 1))
    if _split_path(path_text, problems) is None:
        return None

    found: list[Problem] = []
    value = None
    node = _compose(value_text, OVERRIDE_FILE, found)
    if node is not None:
        value = _build(node, OVERRIDE_FILE, (), {}, found, yaml.constructor.SafeConstructor())
    for problem in found:
        message = f"the value is not usable: {problem.message}"
        problems.append(dataclasses.replace(problem, line=None, path=path_text, message=message))
    return None if found else (path_text, value)


def _split_path(path_text: str, problems: list[Problem]) -> list[str] | None:
    if not path_text:
        message = "the path before '=' is empty"
        problems.append(Problem(OVERRIDE_FILE, None, "", message))
        return None
    segments = path_text.split(".")
    if "" in segments:
        message = "empty part in the path (two dots in a row, or a dot at either end)"
        problems.append(Problem(OVERRIDE_FILE, None, path_text, message))
        return None
    return segments


def _set_path(
    data: dict, locations: Locations, path_text: str, value: Any, problems: list[Problem]
) -> None:
    """Set ``value`` at a dotted path, creating missing mapping keys on the way."""
    segments = _split_path(path_text, problems)
    if segments is None:
        return
    container: Any = data
    trail: Path_ = ()
    for segment in segments[:-1]:
        step = _step(container, segment, trail, path_text, problems)
        if step is None:
            return
        if isinstance(container, dict) and step not in container:
            container[step] = {}
            locations[(*trail, step)] = _SET_HERE
        container = container[step]
        trail = (*trail, step)

    step = _step(container, segments[-1], trail, path_text, problems)
    if step is None:
        return
    container[step] = value
    _drop_under(locations, (*trail, step))
    locations[(*trail, step)] = _SET_HERE


def _step(
    container: Any, segment: str, trail: Path_, path_text: str, problems: list[Problem]
) -> str | int | None:
    """The key or list index that ``segment`` names inside ``container``; None if none."""
    if isinstance(container, dict):
        return segment
    where = _dotted(trail) or "the document"
    if isinstance(container, list):
        if not (segment.isascii() and segment.isdigit()):
            message = f"{where} is a list: use a whole-number index (0, 1, ...), not {segment!r}"
            problems.append(Problem(OVERRIDE_FILE, None, path_text, message))
            return None
        index = int(segment)
        if index >= len(container):
            message = f"list index {index} is out of range: {where} {_list_size(container)}"
            problems.append(Problem(OVERRIDE_FILE, None, path_text, message))
            return None
        return index
    message = f"cannot go inside {where}: it holds a single value, not a mapping or list"
    problems.append(Problem(OVERRIDE_FILE, None, path_text, message, container))
    return None


def _list_size(items: list) -> str:
    if not items:
        return "is empty"
    if len(items) == 1:
        return "has 1 item (index 0)"
    return f"has {len(items)} items (0 to {len(items) - 1})"


# ---------------------------------------------------------------------------------------
# Validation errors to problems
# ---------------------------------------------------------------------------------------


def _validation_problems(
    exc: ValidationError,
    data: dict,
    locations: Locations,
    top_file: str,
    model: type[BaseModel],
) -> list[Problem]:
    problems = []
    for error in exc.errors(include_url=False):
        kind = error["type"]
        path = _data_path(data, error["loc"], keep_last=kind in ("missing", "extra_forbidden"))
        file, line = _locate(path, locations, top_file)
        message = _message(error, path, model)
        if kind == "missing" or not path:
            problems.append(Problem(file, line, _dotted(path), message))
        else:
            problems.append(Problem(file, line, _dotted(path), message, error.get("input")))
    return problems


def _unusable_numbers(node: Any, path: Path_, locations: Locations, top_file: str) -> Iterator[Problem]:
    """A problem for every number that no field could use, wherever it is: NaN, an infinity,
    or an integer too large for a float. (YAML reads ``.nan`` and ``.inf`` as numbers, and a
    NaN compares false with every bound, so a range check alone would let it through.)"""
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _unusable_numbers(value, (*path, key), locations, top_file)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _unusable_numbers(value, (*path, index), locations, top_file)
    elif isinstance(node, float) and not math.isfinite(node):
        file, line = _locate(path, locations, top_file)
        yield Problem(file, line, _dotted(path), "not a finite number: .nan and .inf are not allowed "
                      "in scenario files", node)
    elif isinstance(node, int) and not isinstance(node, bool) and abs(node) > sys.float_info.max:
        file, line = _locate(path, locations, top_file)
        yield Problem(file, line, _dotted(path), f"a number of {len(str(abs(node)))} digits is far too "
                      "large for any value in a scenario")


def _cross_check_problems(
    scenario: BaseModel, locations: Locations, top_file: str
) -> list[Problem]:
    cross_check = getattr(scenario, "cross_check", None)
    if not callable(cross_check):
        return []
    problems = []
    for loc, message, value in cross_check():
        path = tuple(loc)
        file, line = _locate(path, locations, top_file)
        problems.append(Problem(file, line, _dotted(path), message) if value is None
                        else Problem(file, line, _dotted(path), message, value))
    return problems


def _data_path(data: Any, loc: Sequence[str | int], *, keep_last: bool) -> Path_:
    """The real keys and indices in a pydantic ``loc``.

    pydantic puts extra segments in ``loc`` for unions, tagged unions and validator
    functions; those are skipped by following the data and keeping only the segments
    that exist in it. With ``keep_last``, the final segment is kept even though the
    data lacks it (the key a 'missing' error is about).
    """
    path: list[str | int] = []
    node = data
    kept = False
    for segment in loc:
        kept = _has(node, segment)
        if kept:
            node = node[segment]
            path.append(segment)
    if keep_last and loc and not kept:
        path.append(loc[-1])
    return tuple(path)


def _has(node: Any, segment: str | int) -> bool:
    """Whether ``segment`` is a key of the mapping ``node`` or an index of the list ``node``."""
    if isinstance(node, dict):
        return segment in node
    if isinstance(node, list):
        return isinstance(segment, int) and 0 <= segment < len(node)
    return False


def _locate(path: Path_, locations: Locations, top_file: str) -> tuple[str, int | None]:
    """Where the longest part of ``path`` that has a known location was set."""
    for end in range(len(path), 0, -1):
        where = locations.get(path[:end])
        if where is not None:
            return where
    return top_file, None


def _message(error: Mapping[str, Any], path: Path_, model: type[BaseModel]) -> str:
    kind = error["type"]
    if kind == "missing":
        return "required key is missing"
    if kind == "extra_forbidden":
        suggestion = _closest_key(model, path)
        return "unknown key" + (f"; did you mean {suggestion!r}?" if suggestion else "")
    if kind == "too_short":
        least = (error.get("ctx") or {}).get("min_length", 1)
        return "must not be empty" if least == 1 else f"needs at least {least} items"
    message = str(error["msg"])
    for prefix in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(prefix)
    return message


def _closest_key(model: type[BaseModel], path: Path_) -> str | None:
    if not path:
        return None
    names = _field_names_at(model, path[:-1])
    matches = difflib.get_close_matches(str(path[-1]), sorted(names), n=1)
    return matches[0] if matches else None


def _field_names_at(annotation: Any, path: Path_) -> set[str]:
    """The field names of the model(s) found at ``path`` when following the annotations."""
    names: set[str] = set()
    for option in type_options(annotation):
        if is_model(option):
            if not path:
                names.update(option.model_fields)
            elif path[0] in option.model_fields:
                names |= _field_names_at(option.model_fields[path[0]].annotation, path[1:])
        elif path:
            items = item_type(option)
            if items is not None:
                names |= _field_names_at(items, path[1:])
    return names


# ---------------------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------------------


def _dotted(path: Iterable[str | int]) -> str:
    return ".".join(str(segment) for segment in path)


def _in_file_order(problems: Iterable[Problem]) -> list[Problem]:
    return sorted(problems, key=lambda p: (p.file, -1 if p.line is None else p.line))
