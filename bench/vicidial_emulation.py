"""VICIdial's adaptive predictive pacing (ADAPT_HARD_LIMIT / ADAPT_AVERAGE), emulated as the
Perl does it, behind the same `launches(FloorState)` interface as Recaudo's pacers.

From `bin/AST_VDadapt.pl` (`count_agents_lines`, `calculate_drops`, `calculate_dial_level`)
and `bin/AST_VDauto_dial.pl`, as summarised in `../shared/pacing.md` §1.3:
- every second: sample READY agents, LIVE calls (answered, waiting) and all logged-in agents;
  keep 15 samples; differential = mean(ready) − mean(waiting); agents_avg = mean(total);
- every 60 s (and once at start): calls and drops today and in the last minute; drop % of
  today = drops ÷ human-answered calls, of the last minute = drops ÷ calls;
- every 15 s: L ← L·(1 + diff/agents_avg, scaled by intensity), rounded to 3 decimals, capped
  at the maximum level, at least 1.0; halved when the last minute had > 20 calls and > 50 %
  drops; when today had > 50 calls and drops ÷ answers above the limit: HARD_LIMIT → 1.0,
  AVERAGE → L/2; never below 1.0;
- every 2.5 s: goal = round(L × (READY + INCALL agents)); launch goal − (calls SENT, RINGING,
  LIVE or connected to an agent), at most CPS × 2.5 s.
Agents in disposition (our wrap-up) are PAUSED in VICIdial, so they count in `total` but not
in READY or INCALL, and their calls are gone. Drop seconds = 2 (the FTC safe-harbour setting),
so VICIdial's DROP is the same event as Recaudo's abandon; the drop and answer counts are read
from the campaign's `PacingStats` (what the dialer saw: AMD verdicts, not the truth).

Run as a script, it checks the emulation against what `../shared/pacing.md` §1.6 found of
VICIdial's defaults — they end near the 3 % drop limit, no busier than progressive dialling,
with the level pinned at 1.0 most of the shift — on the same floor as `bench/pacing_sim.py`.
Usage: python bench/vicidial_emulation.py [--quick]; last line of stdout: one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from collections import deque
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dialer.dispatch import LaunchPacer
from dialer.floor import AgentFloor, FloorCounts
from dialer.pacing import FloorState, PacingMode, PacingSettings, PacingStats
from dialer.sim.shift import run_shift
from dialer.throttle import TokenBucket

__all__ = ["AdaptMethod", "VicidialAdaptPacer"]


class AdaptMethod(StrEnum):
    HARD_LIMIT = "ADAPT_HARD_LIMIT"
    AVERAGE = "ADAPT_AVERAGE"


class VicidialAdaptPacer:
    """One campaign's adaptive dial level. `counts` reads the floor's agent statuses (VICIdial
    needs READY and INCALL apart, which `FloorState` does not carry); `stats` is the campaign's
    shared observations (dials, live answers, drops)."""

    sample_seconds = 1.0
    level_seconds = 15.0
    drop_seconds = 60.0
    loop_seconds = 2.5

    def __init__(
        self,
        counts: Callable[[], FloorCounts],
        stats: PacingStats,
        *,
        method: AdaptMethod = AdaptMethod.HARD_LIMIT,
        maximum_level: float = 3.0,
        dropped_percentage: float = 3.0,
        intensity: float = 0.0,
        dl_diff_target: float = 0.0,
        cps: float = 20.0,
        max_channels: int = 100_000,
        start_level: float = 1.0,
    ) -> None:
        self.counts = counts
        self.stats = stats
        self.method = method
        self.maximum_level = maximum_level
        self.dropped_percentage = dropped_percentage
        self.intensity = intensity
        self.dl_diff_target = dl_diff_target
        self.max_channels = max_channels
        self.level = start_level
        self.bucket = TokenBucket(cps, max(1, int(cps * self.loop_seconds)))
        self._samples: deque[tuple[int, int, int]] = deque(maxlen=15)
        self._launch_times: deque[float] = deque()
        self._next_sample: float | None = None
        self._next_level = 0.0
        self._next_drops = 0.0
        self._next_loop = 0.0
        self.calls_today = self.answers_today = self.drops_today = 0
        self.calls_one = self.drops_one = 0
        self.level_updates = self.updates_at_one = 0  # how often the level was pinned at 1.0
        self.level_sum = 0.0

    def _sample(self, state: FloorState, counts: FloorCounts) -> None:
        self._samples.append((counts.ready, state.waiting, counts.logged_in))

    def _calculate_drops(self, now: float) -> None:
        ledger = self.stats.ledger
        today = ledger.cumulative()
        self.calls_today = self.stats.launched
        self.answers_today = today.live_answers
        self.drops_today = today.abandons
        while self._launch_times and self._launch_times[0] <= now - 60.0:
            self._launch_times.popleft()
        self.calls_one = len(self._launch_times)
        self.drops_one = ledger.recent(now, 60.0).abandons

    def _calculate_dial_level(self) -> None:
        n = len(self._samples)
        if n == 0:
            return
        ready_avg = sum(s[0] for s in self._samples) / n
        waiting_avg = sum(s[1] for s in self._samples) / n
        agents_avg = sum(s[2] for s in self._samples) / n
        if agents_avg <= 0:
            return  # VICIdial skips the campaign when no agent is logged in
        target = ready_avg - waiting_avg + self.dl_diff_target
        mul = target / agents_avg if target != 0 else 0.0
        i = self.intensity / 100.0
        mul_i = mul * abs(i - 1) if mul < 0 else mul * (i + 1)
        level = round(self.level * (mul_i + 1), 3)
        level = min(level, self.maximum_level)
        level = max(level, 1.0)
        drop_one_pct = 100.0 * self.drops_one / self.calls_one if self.calls_one else 0.0
        if self.calls_one > 20 and drop_one_pct > 50.0:
            level /= 2
        drop_today_pct = 100.0 * self.drops_today / max(1, self.answers_today)
        if self.calls_today > 50 and drop_today_pct > self.dropped_percentage:
            level = 1.0 if self.method is AdaptMethod.HARD_LIMIT else level / 2
        level = max(level, 1.0)
        self.level = level
        self.level_updates += 1
        self.updates_at_one += level == 1.0
        self.level_sum += level

    def launches(self, state: FloorState, limit: int | None = None) -> int:
        """Calls to launch now (0 between the 2.5 s loops), at most `limit`."""
        now = state.now
        if self._next_sample is None:
            self._next_sample = now
            self._next_level = now + self.level_seconds
            self._next_drops = now
            self._next_loop = now
        counts = self.counts()
        while self._next_sample <= now:
            self._sample(state, counts)
            self._next_sample += self.sample_seconds
        if self._next_drops <= now:
            self._calculate_drops(now)
            self._next_drops = now + self.drop_seconds
        if self._next_level <= now:
            self._calculate_dial_level()
            self._next_level = now + self.level_seconds
        if self._next_loop > now:
            return 0
        self._next_loop += self.loop_seconds
        agents = counts.ready + counts.talking
        goal = round(self.level * agents)
        existing = state.ringing + state.waiting + counts.talking
        room = self.max_channels - state.channels
        make = min(goal - existing, room, self.bucket.available(now))
        if limit is not None:
            make = min(make, limit)
        if make <= 0:
            return 0
        self.bucket.take(now, make)
        self._launch_times.extend([now] * make)
        return make


async def _fidelity(agents: int, hours: float, seeds: int) -> dict[str, float]:
    """Mean figures of VICIdial's defaults and of progressive dialling over `seeds` shifts."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    start = datetime(2026, 12, 7, 9, 0, tzinfo=ZoneInfo("America/Mexico_City"))
    settings = PacingSettings(mode=PacingMode.RATIO, cps=20.0, burst=20, max_channels=5000)
    progressive = settings.with_changes(mode=PacingMode.PROGRESSIVE)
    abandon, occupancy, floor_occupancy, pinned = [], [], [], []
    for seed in range(seeds):
        made: list[VicidialAdaptPacer] = []

        def build(
            floor: AgentFloor, stats: PacingStats, made: list[VicidialAdaptPacer] = made
        ) -> LaunchPacer:
            made.append(VicidialAdaptPacer(floor.counts, stats, cps=20.0))
            return made[-1]

        vici = await run_shift(settings, agents=agents, start=start, hours=hours, seed=seed,
                               pacer=build)  # fmt: skip
        base = await run_shift(progressive, agents=agents, start=start, hours=hours, seed=seed)
        abandon.append(vici.abandon_rate)
        occupancy.append(vici.occupancy)
        floor_occupancy.append(base.occupancy)
        pacer = made[0]
        pinned.append(pacer.updates_at_one / max(1, pacer.level_updates))
    return {
        "abandon": statistics.fmean(abandon),
        "occupancy": statistics.fmean(occupancy),
        "over_progressive": statistics.fmean(occupancy) - statistics.fmean(floor_occupancy),
        "level_pinned_at_1": statistics.fmean(pinned),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Check the VICIdial emulation's fidelity.")
    parser.add_argument("--quick", action="store_true", help="20 agents, 2-hour shifts, 2 seeds")
    args = parser.parse_args(argv)
    began = time.perf_counter()
    teams, hours, seeds = ((20,), 2.0, 2) if args.quick else ((20, 50), 8.0, 3)
    figures = {str(a): asyncio.run(_fidelity(a, hours, seeds)) for a in teams}
    targets: dict[str, dict[str, object]] = {}
    for team, f in figures.items():
        checks = {
            f"abandon_near_the_limit_{team}": (f["abandon"], "2.5 %–4.5 %",
                                               0.025 <= f["abandon"] <= 0.045),
            f"no_busier_than_progressive_{team}": (f["over_progressive"], "<= 3 points",
                                                   f["over_progressive"] <= 0.03),
            f"level_mostly_pinned_{team}": (f["level_pinned_at_1"], ">= 50 % of updates",
                                            f["level_pinned_at_1"] >= 0.5),
        }  # fmt: skip
        for name, (value, target, met) in checks.items():
            targets[name] = {"value": round(value, 4), "target": target, "met": met}
        print(f"{team} agents: " + ", ".join(f"{k} {v:.3f}" for k, v in f.items()))
    out = {
        "bench": "vicidial_emulation",
        "quick": args.quick,
        "shift_hours": hours,
        "seeds": seeds,
        "wall_seconds": round(time.perf_counter() - began, 1),
        "figures": figures,
        "targets": targets,
        "all_met": all(t["met"] for t in targets.values()),
    }
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
