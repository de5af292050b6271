"""``python -m sim``: the ``sim`` command (the console script calls :func:`main` too).

The command's modules are imported inside :func:`main`, not here, so that importing this
module costs nothing. (Workers do not import it: they are started without re-running the
parent's main script, see :func:`sim.runner.worker_context`, and load only the engine.)
"""

from __future__ import annotations


def main() -> None:
    from .cli import app

    app(prog_name="sim")


if __name__ == "__main__":  # pragma: no cover
    main()
