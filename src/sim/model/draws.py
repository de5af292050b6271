"""Draws: one random stream's numbers of one kind, read from numpy in blocks.

A scalar call to a numpy generator costs microseconds of argument handling, against
nanoseconds for each number of a block. A stream that only ever draws numbers of one kind
(uniforms, standard exponentials or standard normals) gives the same numbers in the same
order drawn in blocks as drawn one at a time (numpy fills a block by calling, number after
number, the function a scalar call calls once; an exponential of mean ``m`` is ``m`` times a
standard one in both). So the model reads such a stream through a :class:`Draws`, with the
same results bit for bit. A stream that mixes kinds cannot be read ahead (what the next
number is made from depends on what was asked for before), and is used directly.
"""

from __future__ import annotations

from typing import Final

import numpy as np

BLOCK: Final = 64
"""Numbers drawn from numpy at a time."""

UNIFORM: Final = 0
EXPONENTIAL: Final = 1
NORMAL: Final = 2
_KINDS = {"uniform": UNIFORM, "exponential": EXPONENTIAL, "normal": NORMAL}


class Draws:
    """The numbers of one kind a stream gives, drawn a block at a time (on first use)."""

    def __init__(self, rng: np.random.Generator, kind: str):
        if kind not in _KINDS:
            raise ValueError(f"draws are of kind {', '.join(_KINDS)}, not {kind!r}")
        self.kind = kind
        self._code = _KINDS[kind]
        self._rng = rng
        self._block: list[float] = []
        self._next = 0

    def _take(self, code: int) -> float:
        if code != self._code:
            raise TypeError(f"a stream of {self.kind} draws was asked for another kind of number")
        i = self._next
        if i == len(self._block):
            rng = self._rng
            drawn = (rng.random(BLOCK) if code == UNIFORM else rng.standard_exponential(BLOCK) if code == EXPONENTIAL
                     else rng.standard_normal(BLOCK))
            self._block = drawn.tolist()
            i = 0
        self._next = i + 1
        return self._block[i]

    def random(self) -> float:
        """The next uniform number on [0, 1), as ``Generator.random()`` gives it."""
        return self._take(UNIFORM)

    def index(self, n: int) -> int:
        """The next uniform number as a position in ``range(n)``, each as likely."""
        return min(n - 1, int(self._take(UNIFORM) * n))

    def exponential(self, scale: float = 1.0) -> float:
        """The next exponential number of mean ``scale``, as ``Generator.exponential(scale)``
        gives it."""
        return scale * self._take(EXPONENTIAL)

    def standard_normal(self, n: int) -> list[float]:
        """The next ``n`` standard normal numbers, as ``Generator.standard_normal(n)`` gives them."""
        i = self._next
        if self._code == NORMAL and i + n <= len(self._block):  # all in the block drawn
            self._next = i + n
            return self._block[i:i + n]
        return [self._take(NORMAL) for _ in range(n)]
