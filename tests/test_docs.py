"""The README and the documentation pages: short enough to read, links that land, a page in
the site for every file, and examples that do not overwrite each other's results.

The site itself is built with ``make docs`` (``mkdocs build --strict``), which also checks
anchors and the API reference; these tests need no MkDocs and run with the suite.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
README = ROOT / "README.md"
PAGES = sorted(DOCS.rglob("*.md"))
EVERY = [README, *PAGES]

_LINK = re.compile(r"\]\(([^)\s]+)\)")
_FENCE = re.compile(r"^```[^\n]*\n(.*?)^```", re.M | re.S)


def _name(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def _bare_part(text: str) -> tuple[str, str]:
    """The page as the site shows it from its own text, and the note after a generated or
    included part's marker (shown only when the file is read bare, e.g. on GitHub)."""
    found = re.search(r"^<!-- (generated|include): \S+ -->", text, re.M)
    return (text, "") if found is None else (text[:found.start()], text[found.start():])


def _links(text: str) -> list[str]:
    without_code = _FENCE.sub("", text)
    without_code = re.sub(r"`[^`\n]*`", "", without_code)
    return [t for t in _LINK.findall(without_code) if "://" not in t and not t.startswith("mailto:")]


def test_the_readme_fits_on_a_screen_or_two() -> None:
    lines = README.read_text(encoding="utf-8").count("\n")
    assert lines < 200, f"README.md has {lines} lines; move detail into docs/"


@pytest.mark.parametrize("page", EVERY, ids=_name)
def test_relative_links_land_on_a_file(page: Path) -> None:
    """Every relative link resolves from the file's own folder, so the pages read on GitHub
    as well as in the site; a page's own links stay inside docs/ (the site holds nothing
    else), except in the note for readers of the bare file."""
    site_part, bare_note = _bare_part(page.read_text(encoding="utf-8"))
    broken, outside = [], []
    for part, may_leave_docs in ((site_part, page == README), (bare_note, True)):
        for target in _links(part):
            path = target.split("#", 1)[0]
            if not path:
                continue
            resolved = (page.parent / path).resolve()
            if not resolved.exists():
                broken.append(target)
            elif not may_leave_docs and DOCS not in resolved.parents:
                outside.append(target)
    assert broken == [], f"{_name(page)}: links to nothing: {broken}"
    assert outside == [], f"{_name(page)}: links outside docs/, which the site does not hold: {outside}"


def test_the_readme_links_only_into_the_documentation() -> None:
    """The README is the site's home page too: its links must be pages of the site."""
    for target in _links(README.read_text(encoding="utf-8")):
        resolved = (ROOT / target.split("#", 1)[0]).resolve()
        assert DOCS in resolved.parents and resolved.suffix == ".md", target


def _nav_pages(nav: list) -> list[str]:
    pages: list[str] = []
    for entry in nav:
        value = next(iter(entry.values())) if isinstance(entry, dict) else entry
        pages += _nav_pages(value) if isinstance(value, list) else [value]
    return pages


def test_every_page_is_in_the_navigation_once() -> None:
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    listed = _nav_pages(config["nav"])
    assert len(listed) == len(set(listed)), "a page is listed twice in mkdocs.yml"
    assert sorted(listed) == sorted(p.relative_to(DOCS).as_posix() for p in PAGES)


# --- the examples -------------------------------------------------------------------------

_WRITES = ("run", "sweep", "sensitivity")


def _commands(text: str) -> list[list[str]]:
    """Every ``sim`` command line of the code blocks (a ``$ `` prompt dropped, backslash
    continuations joined), split into words."""
    found = []
    for block in _FENCE.findall(text):
        for line in re.sub(r"\\\n\s*", " ", block).splitlines():
            line = line.strip().removeprefix("$ ")
            words = shlex.split(line.split(" #")[0]) if line.startswith("sim ") else []
            if len(words) > 2 and not words[2].isupper():  # not a synopsis (sim run SCENARIO ...)
                found.append(words)
    return found


def _out(words: list[str]) -> str | None:
    return words[words.index("--out") + 1] if "--out" in words else None


_PLAIN_BASELINE = "sim run scenarios/baseline.yaml"
"""What `make run` runs; it writes to results/baseline/, the baseline's default folder."""

_NOT_RESULTS = {"--out": 1, "--plots": 1, "--workers": 1, "--quiet": 0, "-q": 0, "--no-plots": 0}
"""Options that change where or how a command prints, not the results it writes."""


def _what_it_computes(words: list[str]) -> str:
    kept, skip = [], 0
    for word in words:
        if skip:
            skip -= 1
        elif word in _NOT_RESULTS and not (word == "--plots" and words[1] == "run"):
            skip = _NOT_RESULTS[word]
        else:
            kept.append(word)
    return shlex.join(kept)


def test_examples_that_write_results_say_where() -> None:
    """A run, sweep or sensitivity example without --out writes to the scenario's default
    folder, where it would replace the results `make run` leaves in results/baseline/."""
    missing = [f"{_name(page)}: {shlex.join(words)}"
               for page in EVERY for words in _commands(page.read_text(encoding="utf-8"))
               if words[1] in _WRITES and "--resume" not in words and _out(words) is None
               and shlex.join(words) != _PLAIN_BASELINE]
    assert missing == []


def test_different_examples_write_to_different_folders() -> None:
    """Two different commands given the same --out would replace each other's results; the
    plain baseline run may use results/baseline/, which is where `make run` writes."""
    writers: dict[str, set[str]] = {"results/baseline": {_PLAIN_BASELINE}}
    for page in EVERY:
        for words in _commands(page.read_text(encoding="utf-8")):
            out = _out(words)
            if out is None or "--resume" in words:
                continue
            writers.setdefault(out.rstrip("/"), set()).add(_what_it_computes(words))
    shared = {out: sorted(cmds) for out, cmds in writers.items() if len(cmds) > 1}
    assert shared == {}
