"""The documentation's reference pages, generated from the code so that they cannot drift.

The site lists every scenario parameter, every value of the baseline with its source, and
every output column. Writing those tables by hand would let them fall behind the schema the
first time a field is added or a unit corrected, so they are made here, at build time, from
the rows :mod:`sim.scenario.reference` gives and the column declarations of :mod:`sim.model.outputs`.

The pages that hold generated tables are hand-written Markdown in ``docs/`` that end with a
line ``<!-- generated: NAME -->``; when the site is built (``make docs``), :func:`fill_page`
replaces that line, and the note below it for readers of the bare file, with the Markdown
that :data:`GENERATED` makes for ``NAME``. Nothing generated is written back into a file, so
a built page is always as current as the code. Part of the documentation build, not of the
package.
"""

from __future__ import annotations

import html
import os
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from sim.model.outputs import OUTCOMES, TIMESERIES, Column
from sim.scenario.reference import parameter_rows, parameter_table

BASELINE = Path(__file__).resolve().parent.parent / "scenarios" / "baseline.yaml"
"""The shipped baseline, whose values and sources the reference lists."""


def _cell(text: str) -> str:
    return (text or "").replace("|", "\\|").replace("\n", " ").strip() or "–"


def _code(text: str) -> str:
    """A name as code that a narrow table column may wrap only after a dot, never inside a
    name (``<wbr>`` marks where)."""
    if not text:
        return "–"
    return "<code>" + html.escape(text).replace(".", ".<wbr>") + "</code>"


def _table(header: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


_SECTION_TITLES: dict[str, str] = {
    "": "General",
    "market": "Market",
    "commodities": "Commodities",
    "projects": "Projects",
    "processing": "Processing and routing",
    "ramp_up_classes": "Ramp-up classes",
    "program": "Programme phase gates",
    "confidence": "Investor confidence",
    "infrastructure": "Infrastructure",
    "construction": "Construction overruns",
    "resources": "Resource estimates and verification",
    "economy": "Economy",
    "fiscal": "Fiscal regime",
    "distress": "Distress: care and maintenance, defaults",
    "investment": "Investment: the investors' value test",
    "shocks.security": "Security shock",
    "shocks.refining": "Refining-dependency shock (China's export controls)",
    "shocks.tariff": "Tariff shock",
}


def _section(path: str) -> str:
    parts = path.split(".")
    if len(parts) == 1:
        return ""
    if parts[0] == "shocks":
        return ".".join(parts[:2])
    return parts[0]


def _title(section: str) -> str:
    return _SECTION_TITLES.get(section, section.replace("_", " ").replace(".", ": ").capitalize())


def parameter_markdown() -> str:
    """The parameter reference as Markdown: one table per section of the schema, each under
    a second-level heading."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for row in parameter_rows():
        groups.setdefault(_section(row["path"]), []).append(row)
    parts = []
    for section, rows in groups.items():
        parts.append(f"## {_title(section)}")
        parts.append(_table(
            ("Parameter", "Unit", "Range", "Type", "Default", "Meaning"),
            [(_code(r["path"]), _cell(r["unit"]), _cell(r["range"]), _cell(r["type"]),
              _cell(r["default"]), _cell(r["meaning"])) for r in rows]))
    return "\n\n".join(parts) + "\n"


def baseline_markdown(path: str | os.PathLike[str] = BASELINE) -> str:
    """The values of a scenario file (the baseline by default) as a Markdown table, one
    row per parameter with its unit and the ``source:`` or ``assumption:`` note beside it."""
    rows = [(_code(r["path"]), _cell(r["value"]), _cell(r["unit"]), _cell(r["source"]))
            for r in parameter_table(path) if r["path"] not in ("name", "description")]
    return _table(("Parameter", "Value", "Unit", "Source or assumption"), rows) + "\n"


def _column_table(columns: tuple[Column, ...]) -> str:
    return _table(("Column", "Unit", "Meaning"),
                  [(_code(c.name), _cell(c.unit), _cell(c.meaning)) for c in columns])


def output_markdown() -> str:
    """The output columns as Markdown: the outcome table, then the yearly time series."""
    return (
        "## `outcomes.parquet`: one row per replication\n\n"
        + _column_table(OUTCOMES)
        + "\n\nAfter these comes one column per uncertain input, named by its dotted path "
        "(for example `projects.reko_diq.phases.1.build_years`), holding the value drawn "
        "for that replication.\n\n"
        "## `timeseries.parquet`: one row per replication and model year\n\n"
        + _column_table(TIMESERIES)
        + "\n"
    )


GENERATED: dict[str, Callable[[], str]] = {
    "parameters": parameter_markdown,
    "baseline-values": baseline_markdown,
    "outputs": output_markdown,
}
"""What each ``<!-- generated: NAME -->`` line of a documentation page is replaced with."""

_GENERATED_LINE = re.compile(r"^<!-- generated: (\S+) -->[ \t]*$", re.MULTILINE)


def fill_page(text: str) -> str:
    """A documentation page with its generated part filled in.

    The line ``<!-- generated: NAME -->`` and everything after it (a note for readers of the
    bare Markdown file, who see no tables) are replaced by the Markdown ``GENERATED[NAME]``
    makes, inside a ``<div class="generated" markdown>`` (which the site's stylesheet keeps
    from breaking names mid-word); a page without such a line is returned as it is. An
    unknown ``NAME`` raises ``KeyError``, so a misspelt page fails the build rather than
    losing its tables.
    """
    found = _GENERATED_LINE.search(text)
    if found is None:
        return text
    name = found.group(1)
    if name not in GENERATED:
        raise KeyError(f"no generated section named {name!r}; known: {', '.join(GENERATED)}")
    return (text[:found.start()] + '<div class="generated" markdown>\n\n' + GENERATED[name]()
            + "\n</div>\n")
