"""``python -m sim``: the ``sim`` command (the console script calls :func:`main` too).

The command's modules are imported inside :func:`main`, not here, so that importing this
module costs nothing. (Workers do not import it: they are started without re-running the
parent's main script, see :func:`sim.runner.worker_context`, and load only the engine.)

Ctrl-C is the user's way to stop a command at any moment. The commands that run
replications catch it themselves (and say how to resume); anywhere else, while the
command line loads or before a command has started its work, it ends the command quietly
with "Interrupted." and the shell's status for Ctrl-C (130), never a traceback.
"""

from __future__ import annotations

import sys


def main() -> None:
    try:
        from .cli import app

        app(prog_name="sim")
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        sys.exit(130)


if __name__ == "__main__":  # pragma: no cover
    main()
