"""Pacing: Recaudo's pacers against fixed ratios and VICIdial's adaptive algorithm, on one floor.

Every policy runs through the product's own pacing loop (`dialer.dispatch.Dispatch`: the agent
floor, the 2-second abandon rule, the apology) and call lifecycle (`dialer.calls.Call`) on the
in-process simulator and a virtual clock (`dialer.sim.shift.run_shift`), with a simulated team
and the default agent-campaign population (`AgentCampaignModel`: a live person answers 12 % of
dials at 09:00 rising to 28 % at 19:00 with a lunch dip; machine 25 %, busy 10 %, invalid 10 %;
talk lognormal, mean 150 s; wrap-up 20 s; AMD wrong on 5 % of humans and 10 % of machines).
A shift is 09:00–17:00 in Mexico City. Same seeds for every policy.

Policies: progressive (one line per ready agent); fixed ratio 1.2 and 1.3; VICIdial's
ADAPT_HARD_LIMIT and ADAPT_AVERAGE with their defaults (maximum level 3.0, drop limit 3 %;
`bench/vicidial_emulation.py`) and ADAPT_HARD_LIMIT with its maximum level tuned by grid search
(the level with the best occupancy whose mean abandon rate stays within VICIdial's own 3 %
limit); Recaudo predictive (target 2.5 %), also under a step of +50 % and −50 % in the answer
rate halfway through the shift (13:00). Abandon = live answers (AMD said human) with no agent
within 2 s of the verdict, over live answers: the FTC's definition, as the dialer measures it.

Usage: python bench/pacing_sim.py [--quick] [--seeds N] [--hours H] [--jobs N] [--no-write]
Figures: mean ± 95 % confidence interval (Student t) over seeds. Writes the table to
bench/RESULTS.md (between markers) and a plot to bench/pacing_occupancy_vs_abandon.png, unless
--quick or --no-write. Last line of stdout: one JSON object with the targets and whether each
was met.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import multiprocessing
import os
import platform
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from vicidial_emulation import AdaptMethod, VicidialAdaptPacer  # noqa: E402

from dialer.dispatch import LaunchPacer  # noqa: E402
from dialer.floor import AgentFloor  # noqa: E402
from dialer.pacing import PacingMode, PacingSettings, PacingStats  # noqa: E402
from dialer.sim.population import AgentCampaignModel  # noqa: E402
from dialer.sim.shift import PacerFactory, ShiftResult, run_shift  # noqa: E402

SHIFT_START = datetime(2026, 12, 7, 9, 0, tzinfo=ZoneInfo("America/Mexico_City"))  # a Monday
CPS = 20.0  # VICIdial's default outbound_calls_per_second; never binding here
TEAMS: tuple[int, ...] = (5, 20, 50)
OCCUPANCY_TARGETS = {5: 0.70, 20: 0.80, 50: 0.87}
ABANDON_TARGET = 0.025
HOURLY_LIMIT = 0.05
STEP_LIMIT = 0.03
SHIFT_SECONDS_TARGET = 30.0
GRID = (1.1, 1.2, 1.3, 1.4, 1.5, 1.7, 2.0, 2.5)
QUICK_GRID = (1.2, 1.4, 2.0)
RESULTS = ROOT / "bench" / "RESULTS.md"
PLOT = ROOT / "bench" / "pacing_occupancy_vs_abandon.png"
BEGIN, END = "<!-- pacing_sim:begin -->", "<!-- pacing_sim:end -->"


@dataclass(frozen=True, slots=True)
class Policy:
    """One way of pacing, by name: the settings for `Dispatch` and, for emulations, the
    pacer that replaces Recaudo's."""

    name: str
    mode: PacingMode
    ratio: float = 1.2
    vicidial: AdaptMethod | None = None
    max_level: float = 3.0
    step: float = 1.0

    def settings(self) -> PacingSettings:
        return PacingSettings(
            mode=self.mode, cps=CPS, burst=int(CPS), max_channels=5000, ratio=self.ratio
        )

    def factory(self) -> PacerFactory | None:
        method, level = self.vicidial, self.max_level
        if method is None:
            return None

        def build(floor: AgentFloor, stats: PacingStats) -> LaunchPacer:
            return VicidialAdaptPacer(
                floor.counts, stats, method=method, maximum_level=level, cps=CPS
            )

        return build

    def population(self, hours: float) -> AgentCampaignModel:
        """The default population; a step policy steps halfway through the shift."""
        model = AgentCampaignModel()
        if self.step == 1.0:
            return model
        return model.with_overrides(step_at=SHIFT_START.hour + hours / 2, step=self.step)


PROGRESSIVE = Policy("progressive", PacingMode.PROGRESSIVE)
RATIO_12 = Policy("ratio 1.2", PacingMode.RATIO, ratio=1.2)
RATIO_13 = Policy("ratio 1.3", PacingMode.RATIO, ratio=1.3)
VICI_HARD = Policy(
    "VICIdial HARD_LIMIT (defaults)", PacingMode.RATIO, vicidial=AdaptMethod.HARD_LIMIT
)
VICI_AVERAGE = Policy("VICIdial AVERAGE (defaults)", PacingMode.RATIO, vicidial=AdaptMethod.AVERAGE)
PREDICTIVE = Policy("Recaudo predictive", PacingMode.PREDICTIVE)
STEP_UP = Policy("Recaudo predictive, answers +50 % mid-shift", PacingMode.PREDICTIVE, step=1.5)
STEP_DOWN = Policy("Recaudo predictive, answers −50 % mid-shift", PacingMode.PREDICTIVE, step=0.5)


def vici_tuned(level: float) -> Policy:
    return Policy(
        f"VICIdial HARD_LIMIT, max level {level:g}",
        PacingMode.RATIO,
        vicidial=AdaptMethod.HARD_LIMIT,
        max_level=level,
    )


def _run(job: tuple[Policy, int, int, float]) -> tuple[str, int, int, dict[str, float]]:
    policy, agents, seed, hours = job
    result: ShiftResult = asyncio.run(
        run_shift(
            policy.settings(),
            agents=agents,
            start=SHIFT_START,
            hours=hours,
            seed=seed,
            population=policy.population(hours),
            pacer=policy.factory(),
        )
    )
    per_hour = result.agent_hours or 1.0
    return (
        policy.name,
        agents,
        seed,
        {
            "occupancy": result.occupancy,
            "abandon": result.abandon_rate,
            "worst_hour": result.worst_hour,
            "connects_per_agent_hour": result.connects / per_hour,
            "promises_per_agent_hour": result.promises / per_hour,
            "talk_minutes_per_agent_hour": result.talk_seconds / 60 / per_hour,
            "dials": float(result.dials),
            "live_answers": float(result.live_answers),
            "abandons": float(result.abandons),
            "wall_seconds": result.wall_seconds,
        },
    )


_T975 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306,
         9: 2.262, 10: 2.228}  # fmt: skip


def mean_ci(values: Sequence[float]) -> tuple[float, float]:
    """Mean and the half-width of its 95 % confidence interval (Student t)."""
    mean = statistics.fmean(values)
    if len(values) < 2:
        return mean, 0.0
    df = len(values) - 1
    z = 1.959964
    t = _T975.get(df, z + (z**3 + z) / (4 * df))
    return mean, t * statistics.stdev(values) / math.sqrt(len(values))


Runs = dict[tuple[str, int], list[dict[str, float]]]


def run_all(jobs: list[tuple[Policy, int, int, float]], workers: int) -> Runs:
    runs: Runs = defaultdict(list)
    # Longest first, so the pool's last minutes are not one 50-agent shift alone.
    ordered = sorted(jobs, key=lambda j: -j[1])
    if workers > 1:
        with multiprocessing.get_context("spawn").Pool(workers) as pool:
            for name, agents, _seed, figures in pool.imap_unordered(_run, ordered):
                runs[(name, agents)].append(figures)
    else:
        for job in ordered:
            name, agents, _seed, figures = _run(job)
            runs[(name, agents)].append(figures)
    return runs


def summary(runs: Runs, name: str, agents: int) -> dict[str, Any]:
    rows = runs[(name, agents)]
    out: dict[str, Any] = {"runs": len(rows)}
    for key in rows[0]:
        mean, half = mean_ci([r[key] for r in rows])
        out[key] = {"mean": mean, "ci95": half}
    out["worst_hour_max"] = max(r["worst_hour"] for r in rows)
    out["abandon_max"] = max(r["abandon"] for r in rows)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="2 seeds, 1-hour shifts, a short grid")
    parser.add_argument("--seeds", type=int, default=None)
    parser.add_argument("--hours", type=float, default=None)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--no-write", action="store_true", help="leave RESULTS.md and the plot")
    parser.add_argument(
        "--teams", default=None, help="only these team sizes, e.g. 5,20 (a partial run)"
    )
    parser.add_argument(
        "--replot", type=Path, default=None, help="redraw the PNG from a saved run's output"
    )
    args = parser.parse_args(argv)
    if args.replot is not None:
        last = json.loads(args.replot.read_text(encoding="utf-8").strip().splitlines()[-1])
        shown = [PROGRESSIVE, RATIO_12, RATIO_13, VICI_HARD, VICI_AVERAGE, PREDICTIVE]
        plot(last["policies"], [p.name for p in shown], last["tuned_vicidial"])
        print(json.dumps({"bench": "pacing_sim", "replotted": str(PLOT.relative_to(ROOT))}))
        return 0
    global TEAMS
    if args.teams:
        TEAMS = tuple(int(t) for t in args.teams.split(","))
        args.no_write = True  # a partial run never replaces the recorded table
    seeds = args.seeds or (2 if args.quick else 5)
    hours = args.hours or (1.0 if args.quick else 8.0)
    grid = QUICK_GRID if args.quick else GRID
    began = time.perf_counter()
    policies = [PROGRESSIVE, RATIO_12, RATIO_13, VICI_HARD, VICI_AVERAGE, PREDICTIVE,
                STEP_UP, STEP_DOWN, *(vici_tuned(level) for level in grid)]  # fmt: skip
    jobs = [(p, a, s, hours) for p in policies for a in TEAMS for s in range(seeds)]
    print(
        f"{len(jobs)} shifts ({len(policies)} policies × teams {TEAMS} × {seeds} seeds, "
        f"{hours:g} h each) on {args.jobs} processes …",
        flush=True,
    )
    runs = run_all(jobs, max(1, args.jobs))
    table: dict[str, dict[int, dict[str, Any]]] = defaultdict(dict)
    for policy in policies:
        for agents in TEAMS:
            table[policy.name][agents] = summary(runs, policy.name, agents)
    tuned: dict[int, str] = {}
    for agents in TEAMS:
        within = [
            vici_tuned(level).name
            for level in grid
            if table[vici_tuned(level).name][agents]["abandon"]["mean"] <= 0.03
        ]
        best = max(
            within or [vici_tuned(grid[0]).name],
            key=lambda n: table[n][agents]["occupancy"]["mean"],
        )
        tuned[agents] = best
    shown = [PROGRESSIVE, RATIO_12, RATIO_13, VICI_HARD, VICI_AVERAGE]
    report = render_table(table, shown, tuned, [PREDICTIVE, STEP_UP, STEP_DOWN])
    print(report)
    targets = check(table, tuned, hours)
    wall = time.perf_counter() - began
    out = {
        "bench": "pacing_sim",
        "quick": args.quick,
        "seeds": seeds,
        "shift_hours": hours,
        "machine": f"{platform.machine()}, {os.cpu_count()} CPU, "
        f"Python {platform.python_version()}",
        "date": datetime.now(UTC).date().isoformat(),
        "commit": _commit(),
        "wall_seconds": round(wall, 1),
        "tuned_vicidial": tuned,
        "policies": {
            name: {str(a): _compact(v) for a, v in by_team.items()}
            for name, by_team in table.items()
        },
        "targets": targets,
        "all_met": all(t["met"] for t in targets.values()),
    }
    if not args.quick and not args.no_write:
        write_results(report, out)
        plot(out["policies"], [p.name for p in [*shown, PREDICTIVE]], _by_team(tuned))
        print(f"wrote {RESULTS.relative_to(ROOT)} and {PLOT.relative_to(ROOT)}")
    print(json.dumps(out, ensure_ascii=False))
    return 0


def _by_team(tuned: dict[int, str]) -> dict[str, str]:
    return {str(agents): name for agents, name in tuned.items()}


def _compact(cell: dict[str, Any]) -> dict[str, Any]:
    """Mean and CI half-width of the headline figures, for the JSON line."""
    keys = ("occupancy", "abandon", "worst_hour", "connects_per_agent_hour",
            "promises_per_agent_hour")  # fmt: skip
    out: dict[str, Any] = {k: [round(cell[k]["mean"], 4), round(cell[k]["ci95"], 4)] for k in keys}
    out["worst_hour_max"] = round(cell["worst_hour_max"], 4)
    return out


def _pct(cell: dict[str, Any], key: str) -> str:
    return f"{100 * cell[key]['mean']:.1f} ± {100 * cell[key]['ci95']:.1f}"


def _num(cell: dict[str, Any], key: str) -> str:
    return f"{cell[key]['mean']:.2f} ± {cell[key]['ci95']:.2f}"


def render_table(
    table: dict[str, dict[int, dict[str, Any]]],
    shown: list[Policy],
    tuned: dict[int, str],
    ours: list[Policy],
) -> str:
    """A Markdown table: one row per policy and team size."""
    lines = [
        "| policy | agents | occupancy % | abandon % (cumulative) | worst hour % | "
        "connects / agent-hour | promises / agent-hour | talk min / agent-hour |",
        "|---|---|---|---|---|---|---|---|",
    ]

    def row(label: str, name: str, agents: int) -> None:
        c = table[name][agents]
        lines.append(
            f"| {label} | {agents} | {_pct(c, 'occupancy')} | {_pct(c, 'abandon')} | "
            f"{_pct(c, 'worst_hour')} (max {100 * c['worst_hour_max']:.1f}) | "
            f"{_num(c, 'connects_per_agent_hour')} | {_num(c, 'promises_per_agent_hour')} | "
            f"{_num(c, 'talk_minutes_per_agent_hour')} |"
        )

    for agents in TEAMS:
        for policy in shown:
            row(policy.name, policy.name, agents)
        row(f"{tuned[agents]} (tuned)", tuned[agents], agents)
        for policy in ours:
            label = f"**{policy.name}**" if policy is PREDICTIVE else policy.name
            row(label, policy.name, agents)
    return "\n".join(lines)


def check(
    table: dict[str, dict[int, dict[str, Any]]], tuned: dict[int, str], hours: float
) -> dict[str, dict[str, Any]]:
    targets: dict[str, dict[str, Any]] = {}

    def mean(name: str, agents: int, key: str) -> float:
        return float(table[name][agents][key]["mean"])

    def hold(key: str, value: float, target: str, met: bool) -> None:
        targets[key] = {"value": round(value, 5), "target": target, "met": bool(met)}

    for agents in TEAMS:
        p = PREDICTIVE.name
        hold(f"abandon_{agents}", mean(p, agents, "abandon"), "<= 0.025 (mean)",
             mean(p, agents, "abandon") <= ABANDON_TARGET)  # fmt: skip
        worst = float(table[p][agents]["worst_hour_max"])
        hold(f"worst_hour_{agents}", worst, "<= 0.05 (every hour of every seed)",
             worst <= HOURLY_LIMIT)  # fmt: skip
        occupancy = mean(p, agents, "occupancy")
        hold(f"occupancy_{agents}", occupancy, f">= {OCCUPANCY_TARGETS[agents]}",
             occupancy >= OCCUPANCY_TARGETS[agents])  # fmt: skip
        floor = mean(PROGRESSIVE.name, agents, "occupancy")
        hold(f"not_below_progressive_{agents}", occupancy - floor, ">= 0 points",
             occupancy >= floor)  # fmt: skip
        for policy in (STEP_UP, STEP_DOWN):
            tag = "up" if policy is STEP_UP else "down"
            rate = mean(policy.name, agents, "abandon")
            hold(f"step_{tag}_abandon_{agents}", rate, "<= 0.03", rate <= STEP_LIMIT)
        if agents >= 20:
            gap = occupancy - mean(tuned[agents], agents, "occupancy")
            hold(f"over_tuned_vicidial_{agents}", gap, ">= 0.03", gap >= 0.03)
            for policy in (VICI_HARD, VICI_AVERAGE):
                tag = "hard_limit" if policy is VICI_HARD else "average"
                gap = occupancy - mean(policy.name, agents, "occupancy")
                hold(f"over_vicidial_{tag}_defaults_{agents}", gap, ">= 0.12", gap >= 0.12)
    if 50 not in TEAMS:
        return targets
    wall = float(table[PREDICTIVE.name][50]["wall_seconds"]["mean"]) * 8.0 / hours
    label = "<= 30 s" + ("" if hours == 8.0 else f" (scaled from {hours:g}-hour shifts)")
    hold("shift_8h_50_agents_seconds", wall, label, wall <= SHIFT_SECONDS_TARGET)
    return targets


def write_results(report: str, out: dict[str, Any]) -> None:
    met = [k for k, v in out["targets"].items() if v["met"]]
    missed = [k for k, v in out["targets"].items() if not v["met"]]
    block = "\n".join(
        [
            BEGIN,
            f"Run: {out['date']}, commit {out['commit']}, {out['machine']}; {out['seeds']} seeds, "
            f"{out['shift_hours']:g}-hour shifts, {out['wall_seconds']:.0f} s on "
            f"{os.cpu_count()} processes. Mean ± 95 % CI over seeds.",
            "",
            report,
            "",
            f"Targets met: {len(met)} of {len(out['targets'])}"
            + (f"; not met: {', '.join(missed)}" if missed else "")
            + ".",
            "",
            f"![occupancy against abandon per policy]({PLOT.name})",
            END,
        ]
    )
    text = RESULTS.read_text(encoding="utf-8")
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        _, tail = rest.split(END, 1)
        text = head + block + tail
    else:
        text = (
            text.rstrip("\n") + "\n\n## Pacing — `bench/pacing_sim.py` (issue 6)\n\n" + block + "\n"
        )
    RESULTS.write_text(text, encoding="utf-8")


def plot(policies: dict[str, dict[str, Any]], shown: list[str], tuned: dict[str, str]) -> None:
    """Occupancy against abandon, one panel per team size, from the JSON line's `policies`."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(TEAMS), figsize=(15, 5.6), sharey=True)
    for ax, agents in zip(axes, TEAMS, strict=True):
        team = str(agents)
        for name in [*shown, "tuned"]:
            cell = policies[tuned[team] if name == "tuned" else name][team]
            (occupancy, occupancy_ci), (abandon, abandon_ci) = cell["occupancy"], cell["abandon"]
            label = "VICIdial HARD_LIMIT, tuned maximum level" if name == "tuned" else name
            ax.errorbar(
                100 * abandon,
                100 * occupancy,
                xerr=100 * abandon_ci,
                yerr=100 * occupancy_ci,
                fmt="s" if name == PREDICTIVE.name else "o",
                capsize=3,
                label=label if agents == TEAMS[0] else None,
            )
            if name == "tuned":
                level = tuned[team].rsplit(" ", 1)[-1]
                ax.annotate(f"max {level}", (100 * abandon, 100 * occupancy),
                            textcoords="offset points", xytext=(6, 6), fontsize=8)  # fmt: skip
        ax.axvline(100 * ABANDON_TARGET, color="grey", linestyle="--", linewidth=1)
        ax.axvline(3.0, color="red", linestyle=":", linewidth=1)
        ax.set_title(f"{agents} agents")
        ax.set_xlabel("abandon, % of live answers (dashed: 2.5 % target; dotted: 3 %)")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("occupancy, %")
    fig.legend(loc="lower center", ncol=4, fontsize=8, frameon=False)
    fig.suptitle("Pacing policies: occupancy against abandon (8-hour shifts, mean ± 95 % CI)")
    fig.tight_layout(rect=(0, 0.1, 1, 1))
    fig.savefig(PLOT, dpi=110)
    plt.close(fig)


def _commit() -> str:
    try:
        return subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


if __name__ == "__main__":
    raise SystemExit(main())
