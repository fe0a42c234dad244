"""Simulated agents: a team that logs in at the start and wraps up for a drawn time.

Talk time belongs to the debtor (the simulator hangs up the bridged call when the debtor's
script says); wrap-up (disposition) belongs to the agent, drawn here: lognormal, mean 20 s,
coefficient of variation 0.3 by default (`../shared/pacing.md` §1.6). Seeded.
"""

from __future__ import annotations

import random

from dialer.pacing import lognormal_params

__all__ = ["SimulatedTeam"]


class SimulatedTeam:
    """`size` agents named `agent-01` …; `wrap_seconds` is drawn per call."""

    def __init__(
        self, size: int, *, wrap_mean: float = 20.0, wrap_cv: float = 0.3, seed: int = 0
    ) -> None:
        if size < 1:
            raise ValueError(f"a simulated team needs at least one agent, not {size}")
        if wrap_mean < 0 or wrap_cv < 0:
            raise ValueError("wrap-up mean and coefficient of variation must be 0 or more")
        width = max(2, len(str(size)))
        self.agent_ids = tuple(f"agent-{i:0{width}d}" for i in range(1, size + 1))
        self._rng = random.Random(seed)
        self._params = lognormal_params(wrap_mean, wrap_cv) if wrap_mean > 0 else (0.0, 0.0)
        self.wrap_mean = wrap_mean

    def wrap_seconds(self, agent_id: str) -> float:
        if self.wrap_mean == 0:
            return 0.0
        return self._rng.lognormvariate(*self._params)
