"""Random streams: how a replication's randomness is derived from the run's seed.

Every stochastic source in the model (attacks in a province, prices, China's regime, the
tariff, one project's durations, each uncertain input, ...) draws from its own stream,
named by a stable string. The stream of source ``name`` in replication ``i`` of a run with
root seed ``s`` is seeded with the 256-bit BLAKE2b hash of ``"s/i/name"``: its first 64 bits
give a single uniform number (an uncertain input's quantile), all 256 seed a PCG64
generator. Adding a source, or a source drawing more numbers in one scenario than in
another, never shifts what the other sources draw: results do not depend on worker count
or chunking, and two scenarios compared replication by replication share their random
numbers (common random numbers).

The hash replaces a numpy ``SeedSequence`` per stream, which did the same job at about
ten times the cost (a replication derives some forty streams). A stream that only ever
draws one kind of number is read in blocks (:meth:`Streams.draws`, :mod:`sim.model.draws`),
with the same numbers.
"""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np
from numpy.random.bit_generator import ISeedSequence

from .draws import Draws

_TWO_TO_53 = float(2**53)


class _Hashed(ISeedSequence):
    """A seed for a numpy bit generator: the words of one hash, as numpy asks for them."""

    def __init__(self, digest: bytes):
        self.digest = digest

    def generate_state(self, n_words: int, dtype: Any = np.uint32) -> np.ndarray:
        words: np.ndarray = np.frombuffer(self.digest, dtype=dtype)  # read-only, as numpy only reads it
        if n_words > len(words):
            raise ValueError(f"a stream's seed holds {len(words)} words, not {n_words}")
        return words if n_words == len(words) else words[:n_words]


class Streams:
    """The named random streams of one replication, created on first use."""

    def __init__(self, seed: int, replication: int):
        if seed < 0 or replication < 0:
            raise ValueError(f"seed and replication must be non-negative, not {seed} and {replication}")
        self.seed = seed
        self.replication = replication
        self._root = hashlib.blake2b(f"{seed}/{replication}/".encode(), digest_size=32)
        self._made: dict[str, np.random.Generator] = {}
        self._read: dict[str, Draws] = {}  # the streams read in blocks, by name

    def _digest(self, name: str) -> bytes:
        h = self._root.copy()
        h.update(name.encode())
        return h.digest()

    def _generator(self, name: str) -> np.random.Generator:
        # numpy accepts any ISeedSequence here; its type stubs name only SeedSequence.
        seed: Any = _Hashed(self._digest(name))
        return np.random.Generator(np.random.PCG64(seed))

    def __call__(self, name: str) -> np.random.Generator:
        gen = self._made.get(name)
        if gen is None:
            if name in self._read:
                raise ValueError(f"the stream {name!r} is read in blocks of {self._read[name].kind} draws")
            gen = self._made[name] = self._generator(name)
        return gen

    def draws(self, name: str, kind: str) -> Draws:
        """The stream ``name`` read in blocks of ``kind`` numbers (see :class:`Draws`): for a
        source that draws nothing else from it, and only through this."""
        found = self._read.get(name)
        if found is None:
            if name in self._made:
                raise ValueError(f"the stream {name!r} was drawn from directly; it cannot be read in blocks too")
            found = self._read[name] = Draws(self._generator(name), kind)
        elif found.kind != kind:
            raise ValueError(f"the stream {name!r} is read in blocks of {found.kind} draws, not {kind}")
        return found

    def uniform(self, name: str) -> float:
        """One uniform number in (0, 1) for ``name``, without building a generator."""
        word = int.from_bytes(self._digest(name)[:8], "little") >> 11
        return (word + 0.5) / _TWO_TO_53
