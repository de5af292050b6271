"""The documentation build's own steps (a MkDocs hook file, and a Griffe extension for the API
pages). Not part of the site: mkdocs.yml excludes it from the pages.

Three things happen to the hand-written Markdown in ``docs/`` on its way to the site:

- a page ending in ``<!-- generated: NAME -->`` gets the tables ``reference_pages.py`` makes
  for ``NAME`` (the parameter reference, the baseline's values and sources, the output
  columns) in place of that line and the note below it, so those pages are as current as the
  schema they are made from;
- a page ending in ``<!-- include: PATH -->`` gets the file at ``PATH`` (relative to the
  project folder) instead, so the benchmark results written by ``make bench`` appear in the
  site without a second copy;
- in the API reference, the Sphinx roles of the docstrings (``:func:`sim.run```) become
  plain code and doctest lines become Python console blocks, which Markdown would otherwise
  show as stray colons and nested quotes.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import Any

from griffe import Extension, Object

sys.path.insert(0, os.path.dirname(__file__))  # MkDocs loads this file by path, not as a package
from reference_pages import fill_page  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent

_INCLUDE = re.compile(r"^<!-- include: (\S+) -->[ \t]*$", re.MULTILINE)


_LINK = re.compile(r"(\]\()([^)\s#]+)([^)\s]*\))")


def _included(path: str, page_path: str) -> str:
    """The file at ``path`` (relative to the project folder) as the page at ``page_path``
    (relative to docs/) shows it: its top heading dropped (the page has its own title) and its
    relative links made relative to the page, so a link into docs/ still lands."""
    source = ROOT / path
    text = source.read_text(encoding="utf-8")
    if text.startswith("# "):
        text = text.split("\n", 1)[1].lstrip("\n")
    page_dir = (ROOT / "docs" / page_path).parent

    def relink(m: re.Match[str]) -> str:
        target = m.group(2)
        if "://" in target or target.startswith(("/", "mailto:")):
            return m.group(0)
        moved = os.path.relpath(source.parent / target, page_dir)
        return m.group(1) + Path(moved).as_posix() + m.group(3)

    return _LINK.sub(relink, text)


def on_page_markdown(markdown: str, page: Any, **_: Any) -> str:
    """MkDocs event: the page's Markdown with its generated or included part filled in."""
    found = _INCLUDE.search(markdown)
    if found:
        markdown = markdown[:found.start()] + _included(found.group(1), page.file.src_uri)
    return fill_page(markdown)


_ROLE = re.compile(r":(?:func|meth|class|mod|data|attr|exc|obj):`~?([^`]+)`")
_DOCTEST = re.compile(r"(?m)^(?P<indent>[ ]*)>>> ")


def _role_as_code(match: re.Match[str]) -> str:
    target = match.group(1)
    shown = target.rsplit(".", 1)[-1] if match.group(0).count("~") else target
    return f"`{shown}`"


def _doctests_fenced(text: str) -> str:
    """Runs of ``>>>`` lines (with the output lines after them) as a ``pycon`` block."""
    out: list[str] = []
    block: list[str] = []
    for line in [*text.splitlines(), ""]:
        if line.lstrip().startswith(">>>") or (block and line.strip()):
            block.append(line.strip())
            continue
        if block:
            out += ["```pycon", *block, "```"]
            block = []
        out.append(line)
    return "\n".join(out[:-1])


class SphinxRoles(Extension):
    """Griffe extension: docstrings written for Sphinx read as Markdown."""

    def on_object(self, *, obj: Object, **_: Any) -> None:
        if obj.docstring is None:
            return
        text = _ROLE.sub(_role_as_code, obj.docstring.value)
        if _DOCTEST.search(text):
            text = _doctests_fenced(text)
        obj.docstring.value = text
