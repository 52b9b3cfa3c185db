"""How big the network is: full size by default, smaller through the environment."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Sizes:
    """10,000 patients and about 500 people at full size; `seed` makes every build the same."""

    patients: int = 10_000
    people: int = 500
    seed: int = 2026

    @classmethod
    def from_env(cls) -> Sizes:
        """BENCH_PATIENTS, BENCH_PEOPLE (or BENCH_POINT_PERSONS) and BENCH_SEED, else the defaults."""
        people = os.environ.get("BENCH_PEOPLE") or os.environ.get("BENCH_POINT_PERSONS") or cls.people
        return cls(
            patients=int(os.environ.get("BENCH_PATIENTS", cls.patients)),
            people=int(people),
            seed=int(os.environ.get("BENCH_SEED", cls.seed)),
        )

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)
