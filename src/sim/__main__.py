"""``python -m sim``: the ``sim`` command (the console script calls :func:`main` too).

The command's modules are imported inside :func:`main`, not here, so that importing this
module costs nothing. (Workers do not import it: they are started without re-running the
parent's main script, see :func:`sim.experiment.runner.worker_context`, and load only the engine.)

Ctrl-C is the user's way to stop a command at any moment. The commands that run
replications catch it themselves (and say how to resume); anywhere else, while the
command line loads or before a command has started its work, it ends the command quietly
with "Interrupted." and the shell's status for Ctrl-C (130), never a traceback. That holds
too when the interrupt surfaces as another error (pydantic, building a model's schema,
turns it into ``SchemaError``) or is swallowed (numpy's compiled ``random`` module, while
it is imported, drops it).
"""

from __future__ import annotations

import signal
import sys
import threading

_pressed = False


def main() -> None:
    _hear_ctrl_c()
    try:
        from .cli import app

        if _pressed:  # heard, then swallowed by an extension module's import
            raise KeyboardInterrupt
        app(prog_name="sim")
    except KeyboardInterrupt:
        _interrupted()
    except SystemExit:
        _forget_the_interrupt()
        raise
    except BaseException:
        if _pressed:
            _interrupted()
        raise


def _hear_ctrl_c() -> None:
    """Note each Ctrl-C, then raise KeyboardInterrupt as Python's own handler does."""
    if threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        return  # ignored, or handled by whoever runs us

    def on_ctrl_c(signum: int, frame: object) -> None:
        global _pressed
        _pressed = True
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, on_ctrl_c)


def _interrupted() -> None:
    print("Interrupted.", file=sys.stderr)
    _forget_the_interrupt()
    sys.exit(130)


def _forget_the_interrupt() -> None:
    """Clear CPython's record of a Ctrl-C that went unhandled.

    A KeyboardInterrupt that passes out of code run by ``exec`` from a string (numpy's and
    scipy's imports do this) sets the interpreter's flag for an unhandled Ctrl-C, and it
    stays set after the interrupt is handled; ``python -m sim`` then ended killed by SIGINT
    (status -2 to the program that started it) instead of with the status the command chose.
    Running any code from a string clears the flag; a Python without the flag runs it for
    nothing.
    """
    exec("pass")  # noqa: S102 - a constant, see above


if __name__ == "__main__":  # pragma: no cover
    main()
