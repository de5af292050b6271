"""Random streams: how a replication's randomness is derived from the run's seed.

Replication ``i`` of a run with root seed ``s`` owns ``SeedSequence(s, spawn_key=(i,))``.
Each stochastic source in the model (attacks in a province, prices, China's regime, the
tariff, one project's durations, ...) draws from its own child stream
``SeedSequence(s, spawn_key=(i, key(name)))``, keyed by a stable name. Adding a source, or
a source drawing more numbers in one scenario than in another, never shifts what the
other sources draw: results do not depend on worker count or chunking, and two scenarios
compared replication by replication share their random numbers (common random numbers).
"""

from __future__ import annotations

import hashlib

import numpy as np

_TWO_TO_53 = float(2**53)


def key(name: str) -> int:
    """A stable 32-bit key for a stream name (the same on every machine and Python)."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:4], "little")


class Streams:
    """The named random streams of one replication, created on first use."""

    def __init__(self, seed: int, replication: int):
        self.seed = seed
        self.replication = replication
        self._made: dict[str, np.random.Generator] = {}

    def __call__(self, name: str) -> np.random.Generator:
        gen = self._made.get(name)
        if gen is None:
            ss = np.random.SeedSequence(self.seed, spawn_key=(self.replication, key(name)))
            gen = self._made[name] = np.random.Generator(np.random.PCG64(ss))
        return gen

    def uniform(self, name: str) -> float:
        """One uniform number in (0, 1) for ``name``, without building a generator."""
        ss = np.random.SeedSequence(self.seed, spawn_key=(self.replication, key(name)))
        word = int(ss.generate_state(1, np.uint64)[0]) >> 11
        return (word + 0.5) / _TWO_TO_53
