"""Editing scenarios through ``extends``: switching a project off, and replacing a parent's
distribution with one of another family."""

from __future__ import annotations

import textwrap

import numpy as np
import pytest

from conftest import BASELINE
from sim.errors import ScenarioError
from sim.experiment.runner import run_many
from sim.scenario.distributions import Dist
from sim.scenario.files import load_scenario, resolve_document, validate_document


def child(tmp_path, text: str):
    path = tmp_path / "child.yaml"
    path.write_text(f"extends: {BASELINE}\n" + textwrap.dedent(text))
    return path


def test_a_switched_off_project_leaves_nothing_behind(tmp_path):
    """A project switched off in a child file runs exactly as if it had never been written:
    the same events, money and outcomes in every replication, and no drawn input of its own."""
    off = load_scenario(child(tmp_path, "projects:\n  antimony:\n    enabled: false\n"))
    data, locations = resolve_document(BASELINE)
    del data["projects"]["antimony"]
    data["name"] = off.name
    removed = validate_document(data, locations, str(BASELINE))
    assert "antimony" not in off.projects and off == removed
    a = run_many(off, runs=8, seed=3, workers=1).outcomes
    b = run_many(removed, runs=8, seed=3, workers=1).outcomes
    assert not any(c.startswith("projects.antimony.") for c in a.columns)
    assert list(a.columns) == list(b.columns)
    for column in a.columns:
        np.testing.assert_array_equal(a[column], b[column], err_msg=column)
    with_it = run_many(load_scenario(BASELINE), runs=8, seed=3, workers=1).outcomes
    assert any(c.startswith("projects.antimony.") for c in with_it.columns)
    assert not np.array_equal(with_it["events"], a["events"])  # the project did something


def test_a_child_replaces_a_parent_distribution_whole(tmp_path):
    """The parent's triangular ``mode`` does not leak into the child's uniform."""
    path = child(tmp_path, """\
        projects:
          rare_earth:
            exploration_years: {dist: uniform, low: 1, high: 4}
        """)
    drawn = load_scenario(path).projects["rare_earth"].exploration_years
    assert isinstance(drawn, Dist) and drawn.support() == (1.0, 4.0)


def test_a_childs_own_mistake_in_a_distribution_is_the_one_reported(tmp_path):
    path = child(tmp_path, """\
        projects:
          rare_earth:
            exploration_years: {dist: uniform, low: 1}
        """)
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    text = str(caught.value)
    assert "child.yaml:4:" in text and "exploration_years" in text and "high" in text
    assert "mode" not in text and "baseline.yaml" not in text
