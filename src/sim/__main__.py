"""``python -m sim``: the ``sim`` command (the console script calls :func:`main` too).

The command's modules are imported inside :func:`main`, not here. A worker process started
with "spawn" re-imports its parent's main script before it runs any work; with this module
as that script, a worker loads only the engine it needs, not the command line's plotting,
reporting and table libraries.

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
