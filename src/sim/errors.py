"""Problems found in a scenario, reported the way an editor can jump to them.

Every problem the loader finds (a YAML syntax error, an unknown key, a value out of range,
a cycle in ``extends``, a bad ``--set``) becomes one :class:`Problem`, printed on one line
as ``FILE:LINE: dotted.path: what is wrong (got VALUE)``. The loader collects them all and
raises a single :class:`ScenarioError`, so a user fixes a file in one pass.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

_NOTHING = object()


def _show(value: object) -> str:
    text = value.isoformat() if isinstance(value, date) else repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a scenario: where it is, and what is wrong."""

    file: str
    line: int | None
    path: str
    message: str
    value: object = field(default=_NOTHING, compare=False)

    def format(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        path = self.path or "(document)"
        got = "" if self.value is _NOTHING else f" (got {_show(self.value)})"
        return f"{where}: {path}: {self.message}{got}"

    def __str__(self) -> str:
        return self.format()


class ScenarioError(Exception):
    """A scenario could not be loaded; ``problems`` lists every reason, in file order."""

    def __init__(self, problems: Sequence[Problem]):
        self.problems = list(problems)
        super().__init__("\n".join(p.format() for p in self.problems))


class UsageError(ValueError):
    """A call that cannot be honoured as asked: an option out of range, options that do not
    go together, a name that does not exist. The message says what to give instead; the
    command line prints it on one line and exits with status 2.

    ``options`` names the parameters the message is about, each written ``{name}`` in it:
    ``str()`` shows them as the Python API spells them (``max_runs``), :meth:`naming` as a
    caller spells them (the command line's ``--max-runs``)."""

    def __init__(self, message: str, *, options: Sequence[str] = ()):
        self.template, self.options = message, tuple(options)
        super().__init__(self.naming(lambda name: name))

    def naming(self, spell: Callable[[str], str]) -> str:
        """The message with each of its options spelled by ``spell``."""
        text = self.template
        for name in self.options:
            text = text.replace("{" + name + "}", spell(name))
        return text


class RunFolderError(Exception):
    """A run folder cannot be written, resumed or read as asked (it is busy, holds something
    else, or is damaged); the message says why and what to do, on one line."""


class EventBudgetError(UsageError):
    """A replication took more simulation events than :data:`sim.scenario.schema.EVENT_BUDGET`: the
    scenario's rates are too high to simulate in reasonable time. The message says how far
    the replication got."""


def damaged(path: Path, why: str, exc: BaseException | None = None) -> RunFolderError:
    """The one-line refusal of a damaged file in a results folder, with the way out."""
    detail = f": {str(exc).splitlines()[0][:120]}" if exc is not None and str(exc) else ""
    return RunFolderError(f"{path} is damaged ({why}{detail}). Write the results again with --overwrite "
                          "(for a run or a sweep), or remove the folder")
