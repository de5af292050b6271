"""``python -m sim``: the ``sim`` command (the console script calls :func:`main` too).

The command's modules are imported inside :func:`main`, not here. A worker process started
with "spawn" re-imports its parent's main script before it runs any work; with this module
as that script, a worker loads only the engine it needs, not the command line's plotting,
reporting and table libraries.
"""

from __future__ import annotations


def main() -> None:
    from .cli import app

    app(prog_name="sim")


if __name__ == "__main__":  # pragma: no cover
    main()
