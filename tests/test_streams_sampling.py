"""Seeding and per-replication sampling of uncertain inputs."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
from pydantic import BaseModel

from conftest import baseline
from sim.model.draws import BLOCK
from sim.model.sampling import _walk, dotted, realize, uncertain_inputs
from sim.model.streams import Streams
from sim.scenario.distributions import Dist


def test_streams_are_the_documented_hash_and_fixed():
    """A stream's seed is the BLAKE2b hash of "seed/replication/name" (sim.model.streams)."""
    digest = hashlib.blake2b(b"7/3/market", digest_size=32).digest()
    word = int.from_bytes(digest[:8], "little") >> 11
    assert Streams(7, 3).uniform("market") == (word + 0.5) / 2**53
    # A fixed value: if this changes, every published result changes with it.
    assert Streams(7, 3).uniform("market") == 0.1506728860317414
    assert Streams(7, 3)("market").random() == 0.7438031685235962
    with pytest.raises(ValueError, match="non-negative"):
        Streams(-1, 0)


def test_streams_depend_on_seed_replication_and_name_only():
    a = Streams(7, 3)("prices").random(5)
    b = Streams(7, 3)("prices").random(5)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, Streams(7, 4)("prices").random(5))
    assert not np.array_equal(a, Streams(8, 3)("prices").random(5))
    assert not np.array_equal(a, Streams(7, 3)("other").random(5))
    # Using another stream first does not shift this one.
    s = Streams(7, 3)
    s("other").random(100)
    np.testing.assert_array_equal(a, s("prices").random(5))


@pytest.mark.parametrize("kind", ["uniform", "exponential", "normal"])
def test_a_stream_read_in_blocks_gives_the_numbers_drawn_one_at_a_time(kind):
    """sim.model.draws: more than two blocks' worth, each number bit for bit (exponentials
    of a mean other than 1 as numpy scales them)."""
    n = 2 * BLOCK + 5
    one_at_a_time = Streams(7, 3)("hits")
    read = Streams(7, 3).draws("hits", kind)
    if kind == "uniform":
        expected, got = [one_at_a_time.random() for _ in range(n)], [read.random() for _ in range(n)]
    elif kind == "exponential":
        expected = [one_at_a_time.exponential(0.37) for _ in range(n)]
        got = [read.exponential(0.37) for _ in range(n)]
    else:
        expected = [x for _ in range(n) for x in one_at_a_time.standard_normal(3).tolist()]
        got = [x for _ in range(n) for x in read.standard_normal(3)]
    assert got == expected


def test_a_stream_read_in_blocks_is_read_only_so():
    s = Streams(7, 3)
    uniforms = s.draws("hits", "uniform")
    assert s.draws("hits", "uniform") is uniforms
    with pytest.raises(TypeError, match="uniform draws"):
        uniforms.exponential()
    with pytest.raises(ValueError, match="read in blocks of uniform draws"):
        s("hits")
    with pytest.raises(ValueError, match="not exponential"):
        s.draws("hits", "exponential")
    s("prices").random()
    with pytest.raises(ValueError, match="drawn from directly"):
        s.draws("prices", "uniform")
    with pytest.raises(ValueError, match="of kind"):
        s.draws("other", "poisson")


def test_uniforms_lie_in_the_open_unit_interval():
    s = Streams(1, 0)
    u = np.array([s.uniform(f"x{i}") for i in range(2000)])
    assert u.min() > 0 and u.max() < 1
    assert abs(u.mean() - 0.5) < 0.03


def test_realize_replaces_every_distribution_and_reports_it():
    scn = baseline()
    inputs = uncertain_inputs(scn)
    assert len(inputs) > 10
    realized, drawn = realize(scn, Streams(42, 0))
    assert not uncertain_inputs(realized)
    assert not tuple(_walk(realized, ()))  # found afresh, not only as remembered
    assert set(drawn) == {dotted(p) for p, _ in inputs}
    for path, dist in inputs:
        lo, hi = dist.support()
        assert lo <= drawn[dotted(path)] <= hi
    phase = realized.projects["reko_diq"].phases[1]
    assert phase.build_years == drawn["projects.reko_diq.phases.1.build_years"]
    assert isinstance(scn.projects["reko_diq"].phases[1].build_years, Dist)


def _model_copied(obj, updates):
    """The nested updates applied through pydantic's own model_copy."""
    if isinstance(obj, BaseModel):
        return obj.model_copy(update={k: _model_copied(getattr(obj, k), v) if isinstance(v, dict) else v
                                      for k, v in updates.items()})
    out = dict(obj) if isinstance(obj, dict) else list(obj)
    for k, v in updates.items():
        out[k] = _model_copied(obj[k], v) if isinstance(v, dict) else v
    return out


def _nodes(obj, path=()):
    """Every model in a scenario's tree, by path."""
    if isinstance(obj, BaseModel):
        yield path, obj
        for name in type(obj).model_fields:
            yield from _nodes(getattr(obj, name), (*path, name))
    elif isinstance(obj, dict):
        for k, v in obj.items():
            yield from _nodes(v, (*path, k))
    elif isinstance(obj, list | tuple):
        for i, v in enumerate(obj):
            yield from _nodes(v, (*path, i))


def test_realize_copies_as_pydantic_model_copy_does():
    """The realized scenario's quick copy is the one pydantic's model_copy makes: the same
    values, fields set, private values and origin; the copied models new, the rest shared."""
    scn = baseline(shocks__tariff__initial_rate=0.2)
    realized, drawn = realize(scn, Streams(42, 3))
    tree: dict = {}
    for path, _ in uncertain_inputs(scn):
        node = tree
        for part in path[:-1]:
            node = node.setdefault(part, {})
        node[path[-1]] = drawn[dotted(path)]
    expected = _model_copied(scn, tree)
    assert realized == expected
    assert realized.origin == expected.origin and realized.origin.edited
    mine, theirs, before = dict(_nodes(realized)), dict(_nodes(expected)), dict(_nodes(scn))
    assert mine.keys() == theirs.keys()
    copied = {path[:i] for path, _ in uncertain_inputs(scn) for i in range(len(path))}
    for path, node in mine.items():
        assert type(node) is type(theirs[path])
        assert node.model_fields_set == theirs[path].model_fields_set, path
        assert node.__pydantic_extra__ == theirs[path].__pydantic_extra__
        assert (node is before[path]) == (path not in copied), path


@pytest.mark.check("invariant", source="common random numbers: each input draws from its own stream",
                   tolerance="exact")
def test_same_path_same_quantile_across_scenarios(figure):
    """Common random numbers: changing one input leaves the others' draws as they were."""
    a = baseline()
    b = baseline(**{"projects__rare_earth__exploration_years": {"dist": "uniform", "low": 5, "high": 9}})
    _, da = realize(a, Streams(42, 11))
    _, db = realize(b, Streams(42, 11))
    others = [k for k in da if k != "projects.rare_earth.exploration_years"]
    figure(f"{sum(db[k] == da[k] for k in others)} of {len(others)} other inputs unchanged")
    for name, value in da.items():
        if name != "projects.rare_earth.exploration_years":
            assert db[name] == value
