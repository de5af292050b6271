"""Reading scenario files: extends, overrides, refusing unsafe or broken YAML, and
reporting every problem at the file and line that caused it.

The tests validate against a small model defined here, so they do not depend on the
real scenario schema.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ConfigDict, Field

import sim.scenario.files
from sim.errors import Problem, ScenarioError
from sim.scenario.files import MAX_FILE_BYTES, load_scenario, parse_override, resolve_document

# ---------------------------------------------------------------------------------------
# A small model standing in for the scenario schema
# ---------------------------------------------------------------------------------------


class Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Phase(Strict):
    year: int = Field(ge=2020, le=2060)
    capex_usd: float = Field(ge=0)


class Project(Strict):
    mineral: str
    share: float = Field(ge=0, le=1)
    phases: list[Phase] = []


class Settings(Strict):
    runs: int = Field(default=100, ge=1, le=100_000)
    seed: int = 0
    start: dt.date | None = None


class Toy(Strict):
    name: str | None = None
    horizon_years: int = Field(ge=1, le=50)
    settings: Settings = Field(default_factory=Settings)
    projects: dict[str, Project] = {}

    def cross_check(self) -> Iterator[tuple[tuple, str, object]]:
        for key, project in self.projects.items():
            years = [phase.year for phase in project.phases]
            if years != sorted(years):
                yield ("projects", key, "phases"), "phases must be in year order", years


class Plain(Strict):
    """A model with neither a name field nor cross_check."""

    horizon_years: int


GOOD = """\
horizon_years: 20
settings:
  runs: 500
  start: 2025-10-02
projects:
  reko_diq:
    mineral: copper
    share: 0.5
    phases:
      - year: 2028
        capex_usd: 5.0e+9
      - year: 2034
        capex_usd: 2.0e+9
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def load(path: Path, overrides=(), model=Toy):
    return load_scenario(path, overrides, model=model)


def problems_of(path: Path, overrides=(), model=Toy) -> list[Problem]:
    with pytest.raises(ScenarioError) as caught:
        load(path, overrides, model)
    return caught.value.problems


def only_problem(path: Path, overrides=(), model=Toy) -> Problem:
    problems = problems_of(path, overrides, model)
    assert len(problems) == 1, [p.format() for p in problems]
    return problems[0]


# ---------------------------------------------------------------------------------------
# A good file
# ---------------------------------------------------------------------------------------


def test_good_file_loads(tmp_path):
    scenario = load(write(tmp_path, "baseline.yaml", GOOD))
    assert scenario.horizon_years == 20
    assert scenario.settings.runs == 500
    assert scenario.settings.start == dt.date(2025, 10, 2)
    assert [p.year for p in scenario.projects["reko_diq"].phases] == [2028, 2034]
    assert scenario.projects["reko_diq"].phases[0].capex_usd == 5e9


def test_name_defaults_to_file_stem(tmp_path):
    assert load(write(tmp_path, "baseline.yaml", GOOD)).name == "baseline"
    named = write(tmp_path, "named.yaml", "name: my run\nhorizon_years: 5\n")
    assert load(named).name == "my run"


def test_model_without_name_or_cross_check(tmp_path):
    scenario = load(write(tmp_path, "plain.yaml", "horizon_years: 3\n"), model=Plain)
    assert scenario == Plain(horizon_years=3)


def test_dates_stay_dates_and_keys_stay_text(tmp_path):
    path = write(tmp_path, "s.yaml", "horizon_years: 1\non: 2025-10-02\n2030: yes\n")
    data, _ = resolve_document(path)
    assert data == {"horizon_years": 1, "on": dt.date(2025, 10, 2), "2030": True}


def test_locations_record_key_and_item_lines(tmp_path):
    _, locations = resolve_document(write(tmp_path, "s.yaml", GOOD))
    file = str(tmp_path / "s.yaml")
    assert locations[("horizon_years",)] == (file, 1)
    assert locations[("settings", "start")] == (file, 4)
    assert locations[("projects", "reko_diq", "phases", 0)] == (file, 10)
    assert locations[("projects", "reko_diq", "phases", 1)] == (file, 12)
    assert locations[("projects", "reko_diq", "phases", 1, "capex_usd")] == (file, 13)


# ---------------------------------------------------------------------------------------
# extends
# ---------------------------------------------------------------------------------------


def test_extends_inherits_and_overrides(tmp_path):
    write(tmp_path, "base.yaml", GOOD)
    child = write(
        tmp_path,
        "child.yaml",
        """\
        extends: base.yaml
        settings:
          seed: 7
        projects:
          reko_diq:
            share: 0.25
        """,
    )
    scenario = load(child)
    assert scenario.name == "child"
    assert scenario.horizon_years == 20
    assert scenario.settings.runs == 500  # inherited next to the child's seed
    assert scenario.settings.seed == 7
    assert scenario.projects["reko_diq"].share == 0.25
    assert scenario.projects["reko_diq"].mineral == "copper"
    assert len(scenario.projects["reko_diq"].phases) == 2


def test_extends_removes_the_key_and_tracks_locations(tmp_path):
    base = write(tmp_path, "base.yaml", GOOD)
    child = write(tmp_path, "child.yaml", "extends: base.yaml\nhorizon_years: 30\n")
    data, locations = resolve_document(child)
    assert "extends" not in data
    assert ("extends",) not in locations
    assert locations[("horizon_years",)] == (str(child), 2)
    assert locations[("settings", "runs")] == (str(base), 3)


def test_three_level_chain_and_list_replacement(tmp_path):
    write(tmp_path, "grandparent.yaml", GOOD)
    write(
        tmp_path,
        "parent.yaml",
        """\
        extends: grandparent.yaml
        horizon_years: 25
        projects:
          reko_diq:
            phases:
              - year: 2030
                capex_usd: 1.0e+9
        """,
    )
    sub = tmp_path / "sub"
    sub.mkdir()
    child = write(sub, "child.yaml", "extends: ../parent.yaml\nsettings:\n  runs: 9\n")
    data, locations = resolve_document(child)
    assert data["horizon_years"] == 25
    assert data["settings"] == {"runs": 9, "start": dt.date(2025, 10, 2)}
    assert data["projects"]["reko_diq"]["phases"] == [{"year": 2030, "capex_usd": 1e9}]
    assert data["projects"]["reko_diq"]["mineral"] == "copper"
    # The grandparent's second phase is gone, and so is its location.
    parent = os.path.normpath(os.path.join(str(sub), "../parent.yaml"))
    assert locations[("projects", "reko_diq", "phases")] == (parent, 5)
    assert locations[("projects", "reko_diq", "phases", 0, "year")] == (parent, 6)
    assert ("projects", "reko_diq", "phases", 1) not in locations
    assert ("projects", "reko_diq", "phases", 1, "year") not in locations
    assert load(child).settings.runs == 9


def test_child_scalar_replaces_parent_mapping(tmp_path):
    write(tmp_path, "base.yaml", GOOD)
    child = write(tmp_path, "child.yaml", "extends: base.yaml\nsettings: 3\n")
    _, locations = resolve_document(child)
    assert ("settings", "runs") not in locations
    problem = only_problem(child)
    assert (problem.file, problem.line, problem.path) == (str(child), 2, "settings")


def test_extends_cycle(tmp_path):
    write(tmp_path, "a.yaml", "extends: b.yaml\nhorizon_years: 1\n")
    b = write(tmp_path, "b.yaml", "horizon_years: 2\nextends: a.yaml\n")
    problem = only_problem(tmp_path / "a.yaml")
    assert problem.file == str(b)
    assert problem.line == 2
    assert "cycle" in problem.message
    assert "a.yaml -> " in problem.message and "b.yaml -> " in problem.message


def test_extends_itself(tmp_path):
    path = write(tmp_path, "a.yaml", "horizon_years: 1\nextends: a.yaml\n")
    problem = only_problem(path)
    assert (problem.line, problem.path) == (2, "extends")
    assert "cycle" in problem.message


def test_missing_parent_is_reported_at_the_extends_line(tmp_path):
    child = write(tmp_path, "child.yaml", "horizon_years: 1\nextends: nowhere.yaml\n")
    problem = only_problem(child)
    assert (problem.file, problem.line, problem.path) == (str(child), 2, "extends")
    assert "not found" in problem.message


def test_extends_must_be_one_file_name(tmp_path):
    child = write(tmp_path, "child.yaml", "extends: [a.yaml, b.yaml]\nhorizon_years: 1\n")
    problem = only_problem(child)
    assert (problem.line, problem.path) == (1, "extends")


def test_problem_in_parent_points_into_the_parent(tmp_path):
    base = write(tmp_path, "base.yaml", "horizon_years: 1\nhorizon_years: 2\n")
    child = write(tmp_path, "child.yaml", "extends: base.yaml\n")
    problem = only_problem(child)
    assert (problem.file, problem.line) == (str(base), 2)


# ---------------------------------------------------------------------------------------
# Overrides
# ---------------------------------------------------------------------------------------


def test_parse_override():
    assert parse_override("settings.runs=30") == ("settings.runs", 30)
    assert parse_override("a.b=false") == ("a.b", False)
    assert parse_override("a = [1, 2]") == ("a", [1, 2])
    assert parse_override("name=my run=2") == ("name", "my run=2")
    assert parse_override("a=") == ("a", None)
    assert parse_override("d=2025-10-02") == ("d", dt.date(2025, 10, 2))


@pytest.mark.parametrize("text", ["no equals sign", "=5", "a..b=1", ".a=1", "a=*alias", "a=[1"])
def test_parse_override_refuses(text):
    with pytest.raises(ScenarioError) as caught:
        parse_override(text)
    [problem] = caught.value.problems
    assert (problem.file, problem.line) == ("--set", None)


def test_overrides_as_strings(tmp_path):
    path = write(tmp_path, "s.yaml", GOOD)
    overrides = [
        "horizon_years=30",
        "settings.runs=7",
        "projects.reko_diq.phases.1.capex_usd=4.0e+9",
        "projects.thar.mineral=coal",
        "projects.thar.share=0.1",
    ]
    scenario = load(path, overrides)
    assert scenario.horizon_years == 30
    assert scenario.settings.runs == 7
    assert scenario.projects["reko_diq"].phases[1].capex_usd == 4e9
    assert scenario.projects["thar"].mineral == "coal"


def test_overrides_as_mapping_applied_in_order(tmp_path):
    path = write(tmp_path, "s.yaml", GOOD)
    overrides = {
        "settings": {"runs": 3},
        "settings.seed": 11,
        "projects.reko_diq.phases": [{"year": 2040, "capex_usd": 1.0}],
    }
    data, locations = resolve_document(path, overrides)
    assert data["settings"] == {"runs": 3, "seed": 11}
    assert locations[("settings",)] == ("--set", None)
    assert locations[("settings", "seed")] == ("--set", None)
    assert ("settings", "start") not in locations
    assert ("projects", "reko_diq", "phases", 1) not in locations
    assert load(path, overrides).projects["reko_diq"].phases[0].year == 2040


def test_override_does_not_change_the_callers_value(tmp_path):
    path = write(tmp_path, "s.yaml", GOOD)
    phases = [{"year": 2040, "capex_usd": 1.0}]
    data, _ = resolve_document(path, {"projects.reko_diq.phases": phases})
    data["projects"]["reko_diq"]["phases"].append("x")
    assert phases == [{"year": 2040, "capex_usd": 1.0}]


def test_override_of_unknown_key_is_blamed_on_set(tmp_path):
    path = write(tmp_path, "s.yaml", GOOD)
    problem = only_problem(path, ["settings.rusn=5"])
    assert (problem.file, problem.line, problem.path) == ("--set", None, "settings.rusn")
    assert problem.message == "unknown key; did you mean 'runs'?"
    assert problem.format() == "--set: settings.rusn: unknown key; did you mean 'runs'? (got 5)"


def test_override_creating_a_mapping_is_blamed_on_set(tmp_path):
    path = write(tmp_path, "s.yaml", GOOD)
    problem = only_problem(path, {"extra.deep": 1})
    assert (problem.file, problem.line, problem.path) == ("--set", None, "extra")


def test_override_bad_value_is_blamed_on_set(tmp_path):
    path = write(tmp_path, "s.yaml", GOOD)
    problem = only_problem(path, ["settings.runs=0"])
    assert (problem.file, problem.line, problem.path, problem.value) == (
        "--set",
        None,
        "settings.runs",
        0,
    )


@pytest.mark.parametrize(
    ("override", "words"),
    [
        ("horizon_years.x=1", "single value"),
        ("projects.reko_diq.phases.2.year=2030", "out of range"),
        ("projects.reko_diq.phases.first.year=2030", "whole-number index"),
        ("projects.reko_diq.phases.-1.year=2030", "whole-number index"),
        ("settings..runs=1", "empty part"),
        ("settings.runs", "PATH=VALUE"),
    ],
)
def test_bad_override_paths(tmp_path, override, words):
    path = write(tmp_path, "s.yaml", GOOD)
    problem = only_problem(path, [override])
    assert (problem.file, problem.line) == ("--set", None)
    assert words in problem.message


def test_out_of_range_message(tmp_path):
    path = write(tmp_path, "s.yaml", GOOD)
    problem = only_problem(path, ["projects.reko_diq.phases.5=1"])
    assert problem.message == (
        "list index 5 is out of range: projects.reko_diq.phases has 2 items (0 to 1)"
    )


def test_bad_overrides_are_reported_together(tmp_path):
    path = write(tmp_path, "s.yaml", GOOD)
    problems = problems_of(path, ["horizon_years.x=1", "nope", "settings.runs=4"])
    assert len(problems) == 2
    assert all(p.file == "--set" for p in problems)


_KEY = st.from_regex(r"[a-z][a-z_]{0,7}", fullmatch=True).filter(lambda k: k != "extends")
_TREE = st.recursive(
    st.integers(-1000, 1000),
    lambda children: st.dictionaries(_KEY, children, min_size=1, max_size=4),
    max_leaves=12,
).filter(lambda tree: isinstance(tree, dict))


def _leaf_paths(tree: dict, prefix: tuple = ()) -> list[tuple]:
    paths = []
    for key, value in tree.items():
        if isinstance(value, dict):
            paths.extend(_leaf_paths(value, (*prefix, key)))
        else:
            paths.append((*prefix, key))
    return paths


@settings(max_examples=60, deadline=None)
@given(tree=_TREE, data=st.data(), new_value=st.integers() | st.booleans() | _KEY)
def test_any_known_path_can_be_overridden(tree, data, new_value):
    path = data.draw(st.sampled_from(_leaf_paths(tree)))
    dotted = ".".join(path)
    with tempfile.TemporaryDirectory() as folder:
        file = Path(folder) / "s.yaml"
        file.write_text(yaml.safe_dump(tree), encoding="utf-8")
        from_text, text_locations = resolve_document(file, [f"{dotted}={new_value!r}"])
        from_code, code_locations = resolve_document(file, {dotted: new_value})
    assert from_text == from_code
    node = from_code
    for key in path[:-1]:
        node = node[key]
    assert node[path[-1]] == new_value
    assert text_locations == code_locations
    assert code_locations[path] == ("--set", None)


# ---------------------------------------------------------------------------------------
# Refusing files
# ---------------------------------------------------------------------------------------


def test_missing_file(tmp_path):
    problem = only_problem(tmp_path / "nope.yaml")
    assert problem.file == str(tmp_path / "nope.yaml")
    assert problem.line is None
    assert "not found" in problem.message


def test_directory(tmp_path):
    assert "folder" in only_problem(tmp_path).message


def test_unreadable_file(tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(sim.scenario.files, "open", refuse, raising=False)
    problem = only_problem(write(tmp_path, "s.yaml", GOOD))
    assert problem.message == "cannot read the file: Permission denied"


def test_file_too_large(tmp_path):
    path = tmp_path / "big.yaml"
    path.write_text("horizon_years: 1\n" + "#" * MAX_FILE_BYTES + "\n", encoding="utf-8")
    problem = only_problem(path)
    assert "too large" in problem.message
    assert f"{path.stat().st_size:,} bytes" in problem.message


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n# and another\n"])
def test_empty_document(tmp_path, text):
    problem = only_problem(write(tmp_path, "s.yaml", text))
    assert problem.line is None
    assert "empty" in problem.message


@pytest.mark.parametrize(
    ("text", "line"),
    [("- a\n- b\n", 1), ("\n# comment\njust text\n", 3), ("~\n", 1)],
)
def test_document_not_a_mapping(tmp_path, text, line):
    problem = only_problem(write(tmp_path, "s.yaml", text))
    assert problem.line == line
    assert "mapping" in problem.message


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("horizon_years: 1\nsettings:\n  runs: 5\n   seed: 1\n", 4),
        ("horizon_years: 1\nprojects: [a, b\n", 3),
        ("horizon_years: 1\nname: 'unclosed\n", 3),
        ("horizon_years: 1\n\tname: x\n", 2),
        ("a: 1\n- b\n", 2),
    ],
)
def test_yaml_syntax_error_has_its_line(tmp_path, text, line):
    problem = only_problem(write(tmp_path, "s.yaml", text))
    assert problem.line == line
    assert "YAML syntax error" in problem.message


@pytest.mark.parametrize("text", ["horizon_years: 1\n\tname: x\n", "settings:\n  runs: 5\n\tseed: 1\n",
                                  "horizon_years:\t1\nname:\n\t- x\n"])
def test_a_tab_says_indent_with_spaces(tmp_path, text):
    problem = only_problem(write(tmp_path, "s.yaml", text))
    assert "indent with spaces" in problem.message and "tab" in problem.message


def test_an_impossible_date_says_how_dates_are_written(tmp_path):
    problem = only_problem(write(tmp_path, "s.yaml", "horizon_years: 1\nsettings:\n  start: 2025-02-30\n"))
    assert problem.line == 3 and "not a date in the calendar" in problem.message
    assert "YYYY-MM-DD" in problem.message


@pytest.mark.parametrize("value", [".nan", ".inf", "-.inf", "9" * 400])
def test_numbers_no_field_could_use_are_refused_wherever_they_are(tmp_path, value):
    """Even where the model would accept any float (here ``capex_usd``, which has no upper
    bound): NaN, an infinity and an integer past float range are refused by the loader."""
    text = f"horizon_years: 1\nprojects:\n  p:\n    mineral: copper\n    share: 0.5\n    phases:\n" \
           f"      - {{year: 2030, capex_usd: {value}}}\n"
    problem = only_problem(write(tmp_path, "s.yaml", text))
    assert (problem.line, problem.path) == (7, "projects.p.phases.0.capex_usd")
    assert "finite" in problem.message or "far too large" in problem.message


def test_not_utf8(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_bytes(b"horizon_years: 1\nname: caf\xe9\n")
    problem = only_problem(path)
    assert (problem.line, "UTF-8" in problem.message) == (2, True)


def test_control_character(tmp_path):
    problem = only_problem(write(tmp_path, "s.yaml", "horizon_years: 1\nname: a\x07b\n"))
    assert problem.line == 2


def test_second_document(tmp_path):
    problem = only_problem(write(tmp_path, "s.yaml", "horizon_years: 1\n---\nname: x\n"))
    assert problem.line == 2


def test_duplicate_keys(tmp_path):
    text = """\
    horizon_years: 1
    settings:
      runs: 5
      seed: 1
      runs: 6
    horizon_years: 2
    """
    problems = problems_of(write(tmp_path, "s.yaml", text))
    assert [(p.line, p.path) for p in problems] == [(5, "settings.runs"), (6, "horizon_years")]
    assert "line 3" in problems[0].message


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("horizon_years: &h 1\nname: x\n", 1),
        ("base: &b {runs: 1}\nsettings: *b\n", 1),
        ("horizon_years: 1\nbase: {runs: 1}\nsettings:\n  <<: {runs: 2}\n", 4),
        ("a: &x 1\nb: *x\n", 1),
        ("horizon_years: 1\nprojects:\n  - &p x\n", 3),
    ],
)
def test_anchors_aliases_and_merge_keys_are_refused(tmp_path, text, line):
    problems = problems_of(write(tmp_path, "s.yaml", text))
    assert problems[0].line == line
    assert all("aliases" in p.message for p in problems)


def test_alias_bomb_fails_quickly(tmp_path):
    lines = ['a0: ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for level in range(1, 10):
        lines.append(f"a{level}: [" + ",".join([f"*a{level - 1}"] * 9) + "]")
    text = "\n".join(lines).replace("a0:", "a0: &a0", 1)
    for level in range(1, 9):
        text = text.replace(f"a{level}: [", f"a{level}: &a{level} [", 1)
    path = write(tmp_path, "bomb.yaml", text + "\n")
    started = time.perf_counter()
    problems = problems_of(path)
    assert time.perf_counter() - started < 2
    assert len(problems) == 10  # one per line
    assert {p.line for p in problems} == set(range(1, 11))


def test_deep_nesting_is_refused(tmp_path):
    path = write(tmp_path, "s.yaml", "horizon_years: 1\nx: " + "[" * 500 + "]" * 500 + "\n")
    problem = only_problem(path)
    assert (problem.line, "nested" in problem.message) == (2, True)


@pytest.mark.parametrize(
    "text",
    [
        "horizon_years: !!python/object/apply:os.getcwd []\n",
        "horizon_years: !custom 3\n",
        "horizon_years: 1\nname: 2025-13-45\n",
        "horizon_years: 1\nsettings: !!set {a, b}\n",
    ],
)
def test_values_that_cannot_be_read(tmp_path, text):
    problem = only_problem(write(tmp_path, "s.yaml", text))
    assert problem.line == text.count("\n")


# ---------------------------------------------------------------------------------------
# Validation problems
# ---------------------------------------------------------------------------------------


def test_unknown_key_with_its_line_and_a_suggestion(tmp_path):
    path = write(tmp_path, "s.yaml", GOOD.replace("  runs: 500", "  rnus: 500"))
    problem = only_problem(path)
    assert (problem.file, problem.line, problem.path) == (str(path), 3, "settings.rnus")
    assert problem.message == "unknown key; did you mean 'runs'?"
    assert problem.value == 500


def test_unknown_key_inside_a_list_item(tmp_path):
    path = write(tmp_path, "s.yaml", GOOD.replace("capex_usd: 2.0e+9", "capex: 2.0e+9"))
    problems = problems_of(path)
    assert [(p.line, p.path) for p in problems] == [
        (12, "projects.reko_diq.phases.1.capex_usd"),  # missing: at the item's line
        (13, "projects.reko_diq.phases.1.capex"),
    ]
    assert problems[0].message == "required key is missing"
    assert "capex_usd" in problems[1].message


def test_wrong_type(tmp_path):
    path = write(tmp_path, "s.yaml", GOOD.replace("runs: 500", "runs: many"))
    problem = only_problem(path)
    assert (problem.line, problem.path, problem.value) == (3, "settings.runs", "many")
    assert "integer" in problem.message


def test_out_of_range(tmp_path):
    path = write(tmp_path, "s.yaml", GOOD.replace("share: 0.5", "share: 1.5"))
    problem = only_problem(path)
    assert (problem.line, problem.path, problem.value) == (8, "projects.reko_diq.share", 1.5)
    assert "less than or equal to 1" in problem.message


def test_missing_required_top_level_key(tmp_path):
    path = write(tmp_path, "s.yaml", "name: x\n")
    problem = only_problem(path)
    assert problem.format() == f"{path}: horizon_years: required key is missing"


def test_error_lines_point_into_the_file_that_set_the_value(tmp_path):
    base = write(tmp_path, "base.yaml", GOOD.replace("year: 2034", "year: 1999"))
    child = write(
        tmp_path,
        "child.yaml",
        """\
        extends: base.yaml

        horizon_years: 99
        """,
    )
    problems = problems_of(child)
    assert [(p.file, p.line, p.path) for p in problems] == [
        (str(base), 12, "projects.reko_diq.phases.1.year"),
        (str(child), 3, "horizon_years"),
    ]


def test_many_problems_are_reported_together(tmp_path):
    text = """\
    horizon_years: 0
    colour: blue
    settings:
      runs: lots
    projects:
      reko_diq:
        share: -1
    """
    problems = problems_of(write(tmp_path, "s.yaml", text))
    assert [(p.line, p.path) for p in problems] == [
        (1, "horizon_years"),
        (2, "colour"),
        (4, "settings.runs"),
        (6, "projects.reko_diq.mineral"),
        (7, "projects.reko_diq.share"),
    ]


def test_cross_check_problems(tmp_path):
    text = GOOD.replace("year: 2028", "year: 2040")
    path = write(tmp_path, "s.yaml", text)
    problem = only_problem(path)
    assert (problem.line, problem.path) == (9, "projects.reko_diq.phases")
    assert problem.message == "phases must be in year order"
    assert problem.value == [2040, 2034]


def test_problem_format():
    problem = Problem("s.yaml", 4, "settings.runs", "Input should be greater than 0", value=0)
    assert problem.format() == "s.yaml:4: settings.runs: Input should be greater than 0 (got 0)"
    assert str(Problem("--set", None, "", "bad")) == "--set: (document): bad"


def test_error_message_lists_every_problem(tmp_path):
    path = write(tmp_path, "s.yaml", "horizon_years: 0\ncolour: red\n")
    with pytest.raises(ScenarioError) as caught:
        load(path)
    assert str(caught.value).splitlines() == [
        f"{path}:1: horizon_years: Input should be greater than or equal to 1 (got 0)",
        f"{path}:2: colour: unknown key (got 'red')",
    ]


def test_abandoning_above_the_downgrade_threshold_is_refused():
    """A resource too small to build on must count as a downgrade, or it would both lift
    confidence and cancel the project."""
    from conftest import BASELINE

    with pytest.raises(ScenarioError) as caught:
        load_scenario(BASELINE, {"resources.abandon_below": 0.8})
    assert "resources.abandon_below: must not exceed resources.downgrade_below (0.7)" in str(caught.value)
