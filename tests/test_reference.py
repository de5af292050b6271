"""The generated reference tables: complete, and every one of them on a page of the documentation."""

from __future__ import annotations

import textwrap
import typing
from pathlib import Path
from typing import Any

import pytest
import reference_pages
from pydantic import BaseModel

from sim.model import outputs
from sim.model.sampling import dotted, uncertain_inputs
from sim.scenario import reference
from sim.scenario.files import load_scenario
from sim.scenario.schema import Scenario

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "scenarios" / "baseline.yaml"


# --- an independent walk of the schema ---------------------------------------------------

def _models_in(annotation: Any) -> list[type[BaseModel]]:
    """Every pydantic model class mentioned anywhere in a type annotation."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    found: list[type[BaseModel]] = []
    for arg in typing.get_args(annotation):
        found += _models_in(arg)
    return found


def _leaves(model: type[BaseModel]) -> list[tuple[str, str]]:
    """(class, field) of every leaf reachable from ``model``, once per path to it."""
    out: list[tuple[str, str]] = []
    for name, field in model.model_fields.items():
        inner = _models_in(field.annotation)
        if inner:
            for sub in inner:
                out += _leaves(sub)
        else:
            out.append((model.__name__, name))
    return out


def test_every_leaf_field_of_the_schema_has_one_row() -> None:
    rows = reference.parameter_rows()
    expected = _leaves(Scenario)
    assert len(rows) == len(expected)
    assert sorted((r["model"], r["field"]) for r in rows) == sorted(expected)
    assert len({r["path"] for r in rows}) == len(rows), "paths must be unique"


def test_every_row_has_a_unit_a_meaning_and_a_type() -> None:
    for row in reference.parameter_rows():
        where = f"{row['path']} ({row['model']}.{row['field']})"
        assert row["unit"].strip(), f"{where} has no unit"
        assert row["meaning"].strip(), (
            f"{where} has no meaning: give the field a description in sim/schema.py "
            "or an entry in sim.scenario.reference.EXTRA_MEANINGS")
        assert row["type"].strip() and row["default"].strip(), where


def test_paths_use_placeholders_for_keys_and_list_items() -> None:
    rows = {r["path"]: r for r in reference.parameter_rows()}
    build = rows["projects.<project>.phases.<i>.build_years"]
    assert build["unit"] == "yr"
    assert build["range"] == "> 0 and <= 30"
    assert build["type"].startswith("number or distribution")
    assert build["default"] == "empty"
    assert rows["projects.<project>.phases.<i>.lead_years"]["range"] == ">= 0 and <= 40"
    assert rows["projects.<project>.phases.<i>.lead_years"]["default"] == "0"
    assert rows["horizon_years"]["default"] == "required"
    assert rows["shocks.security.provinces.<province>.initial_regime"]["type"] == (
        "one of: calm, elevated, crisis")
    assert rows["start_date"]["type"] == "date"
    for path in ("commodities.<commodity>.price_usd",
                 "processing.foreign_capacity.<route>.<commodity>",
                 "ramp_up_classes.<class>.median_years",
                 "shocks.security.consequences.<severity>.downtime_days",
                 "shocks.tariff.schedule.<i>.rate"):
        assert path in rows


def test_rows_for_a_scenario_follow_its_keys_and_show_its_values() -> None:
    scenario = load_scenario(BASELINE)
    rows = {r["path"]: r for r in reference.parameter_rows(scenario)}  # type: ignore[arg-type]
    assert rows["projects.reko_diq.phases.0.capex_usd"]["value"] == "5,600,000,000"
    assert rows["projects.reko_diq.phases.0.capex_usd"]["pattern"] == (
        "projects.<project>.phases.<i>.capex_usd")
    assert rows["start_date"]["value"] == "2025-10-02"
    assert rows["shocks.tariff.new_rates"]["value"] == "0.1, 0.19, 0.29"
    # every uncertain input (a column of the outcome table) is a row, shown as its distribution
    for path, dist in uncertain_inputs(scenario):  # type: ignore[arg-type]
        assert rows[dotted(path)]["value"] == dist.describe()


# --- sources of the baseline values ------------------------------------------------------

def test_baseline_sources_reads_the_notes_beside_the_values() -> None:
    notes = reference.baseline_sources(BASELINE)
    assert notes["start_date"].startswith("source: first consignment")
    assert notes["discount_rate"].startswith("assumption")
    # a note on an enclosing key covers everything beneath it
    assert notes["confidence.stall_floor"].startswith("assumption throughout")
    # a comment line above a key
    assert "consignment-scale" in notes["projects.pilot.phases.0.output.copper"]
    # a note on a flow mapping covers its entries
    assert notes["ramp_up_classes.4.plateau"].startswith("source:")
    assert all(notes.values())


def test_baseline_sources_on_a_small_file(tmp_path: Path) -> None:
    path = tmp_path / "notes.yaml"
    path.write_text(textwrap.dedent("""\
        # Opening comment: not the note of the first key.
        start: 1
        report: 2                # source: a report (2025)
        label: "A # in quotes"   # assumption: quoted hashes are not comments
        group:                   # assumption throughout: one note for all
          a: 1
          b: 2                   # source: b's own note
        items:
          # assumption: the comment above an item's key
          - x: 1
            y: 2                 # a comment that is no note
        plain: 3                 # just a remark
        """), encoding="utf-8")
    notes = reference.baseline_sources(path)
    assert notes == {
        "report": "source: a report (2025)",
        "label": "assumption: quoted hashes are not comments",
        "group": "assumption throughout: one note for all",
        "group.a": "assumption throughout: one note for all",
        "group.b": "source: b's own note",
        "items.0": "assumption: the comment above an item's key",
        "items.0.x": "assumption: the comment above an item's key",
        "items.0.y": "assumption: the comment above an item's key",
    }


# --- the generated pages of the documentation ----------------------------------------------

DOCS = ROOT / "docs"


def _shown(page: str) -> str:
    """A documentation page as the site renders it (generated part filled in), with the markup
    that only steers line breaks taken out, so names read as they are written."""
    import html

    filled = reference_pages.fill_page((DOCS / page).read_text(encoding="utf-8"))
    return html.unescape(filled.replace("<wbr>", ""))


def test_every_parameter_of_the_schema_is_on_the_parameter_page() -> None:
    shown = _shown("parameters.md")
    missing = [r["path"] for r in reference.parameter_rows() if f"<code>{r['path']}</code>" not in shown]
    assert missing == [], f"docs/parameters.md does not show: {missing}"


def test_every_baseline_value_is_on_the_baseline_page_with_its_source() -> None:
    shown = _shown("baseline.md")
    rows = reference.parameter_table(BASELINE)
    assert len(rows) > 300
    for row in rows:
        if row["path"] in ("name", "description"):
            continue
        assert f"<code>{row['path']}</code>" in shown, row["path"]
    start = next(r for r in rows if r["path"] == "start_date")
    assert f"| <code>start_date</code> | 2025-10-02 | date | {start['source']} |" in shown


def test_every_output_column_is_on_the_outputs_page_with_its_unit() -> None:
    shown = _shown("outputs.md")
    for column in (*outputs.OUTCOMES, *outputs.TIMESERIES):
        assert f"| <code>{column.name}</code> | {column.unit} |" in shown, column.name


def test_each_generated_section_fills_exactly_one_page() -> None:
    import re

    found: dict[str, list[str]] = {}
    for page in sorted(DOCS.rglob("*.md")):
        for name in re.findall(r"^<!-- generated: (\S+) -->", page.read_text(encoding="utf-8"), re.M):
            found.setdefault(name, []).append(page.relative_to(DOCS).as_posix())
    assert sorted(found) == sorted(reference_pages.GENERATED), (
        "every generated section needs one page ending in its <!-- generated: NAME --> line")
    assert all(len(pages) == 1 for pages in found.values()), found


def test_fill_page_replaces_the_marker_line_and_the_note_below_it() -> None:
    page = "# Title\n\nHand-written.\n\n<!-- generated: outputs -->\n\n*Build the site to see the tables.*\n"
    filled = reference_pages.fill_page(page)
    assert filled.startswith("# Title\n\nHand-written.\n\n<div class=\"generated\" markdown>")
    assert reference_pages.output_markdown() in filled
    assert "Build the site" not in filled and "<!-- generated" not in filled
    assert reference_pages.fill_page("# No marker\n\nText.\n") == "# No marker\n\nText.\n"
    with pytest.raises(KeyError, match="parametres"):
        reference_pages.fill_page("# Typo\n\n<!-- generated: parametres -->\n")


def test_names_in_generated_tables_break_only_after_a_dot() -> None:
    text = reference_pages.parameter_markdown()
    assert "<code>shocks.<wbr>security.<wbr>provinces.<wbr>&lt;province&gt;.<wbr>initial_regime</code>" in text
    assert "initial_<wbr>" not in text


def test_output_tables_list_every_column_with_its_unit() -> None:
    import html

    text = html.unescape(reference_pages.output_markdown().replace("<wbr>", ""))
    for column in (*outputs.OUTCOMES, *outputs.TIMESERIES):
        assert f"| <code>{column.name}</code> | {column.unit} |" in text


# --- provenance of every baseline number (sim params) ------------------------------------

def test_every_baseline_parameter_has_a_source_or_an_assumption():
    from sim.scenario.reference import parameter_table

    rows = parameter_table("scenarios/baseline.yaml")
    descriptive = {"label", "unit", "name", "description", "port", "province"}
    missing = [r["path"] for r in rows
               if r["path"].rsplit(".", 1)[-1] not in descriptive
               and not r["source"].lower().startswith(("source", "assumption", "fitted"))
               and r["source"] != "schema default"]
    assert missing == [], f"give these a '# source:', '# fitted:' or '# assumption:' note: {missing}"


def test_params_command_lists_values_units_and_sources():
    import csv
    import io

    from typer.testing import CliRunner

    from sim.cli import app

    r = CliRunner().invoke(app, ["params", "scenarios/tariff_snapback.yaml", "--format", "csv",
                                 "--set", "horizon_years=30"])
    assert r.exit_code == 0, r.output
    rows = {row["path"]: row for row in csv.DictReader(io.StringIO(r.output))}
    assert rows["horizon_years"]["value"] == "30"
    assert rows["horizon_years"]["source"] == "set on the command line"
    assert rows["shocks.tariff.exemption_active"]["value"] == "false"  # from the extending file
    assert rows["shocks.tariff.exemption_active"]["source"].startswith("assumption")
    assert rows["projects.reko_diq.phases.0.capex_usd"]["source"].startswith("source")
    assert rows["projects.reko_diq.phases.0.capex_usd"]["unit"] == "USD"
    md = CliRunner().invoke(app, ["params", "scenarios/baseline.yaml", "--format", "markdown"])
    assert md.output.startswith("| path | value | unit | range | source |")
    bad = CliRunner().invoke(app, ["params", "scenarios/baseline.yaml", "--format", "xml"])
    assert bad.exit_code == 2


# --- the validation page --------------------------------------------------------------------

def _checks_in_tests() -> set[str]:
    """Names of the test functions marked as checks, found by reading the test files."""
    import ast

    names = set()
    for path in (ROOT / "tests").glob("test_*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef) and any(
                    "mark.check" in ast.unparse(d) for d in node.decorator_list):
                names.add(node.name)
    return names


def test_validation_page_lists_every_check() -> None:
    """docs/validation.md is written by `make validate`; adding, renaming or removing a check
    without regenerating it fails here."""
    import re

    page = (ROOT / "docs" / "validation.md").read_text(encoding="utf-8")
    listed = {name.split("[")[0] for name in re.findall(r"::(test_[^`]+)`", page)}
    checks = _checks_in_tests()
    assert len(checks) >= 40
    assert listed == checks, ("docs/validation.md is out of date: run `make validate`. "
                              f"Missing: {sorted(checks - listed)}; gone: {sorted(listed - checks)}")
    assert "| pass |" in page
    for bad in ("| FAIL |", "| not run |", "| skipped |"):
        assert bad not in page
