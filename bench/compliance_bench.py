"""decide() throughput on one core over a mixed population.

Population: contacts from MX, CO, US, PE and CL with real area-code zones (10 % with an address
in another zone, so two candidate zones), histories of 0–20 events over the previous 14 days,
instants spread over a week, channels voice_prerecorded / voice_live / sms; packs chosen per
contact as the product does. Only decide() is timed.

Usage: python bench/compliance_bench.py [--decisions N] [--quick] [--instructions]
       [--history-events 20] [--history-days 14]
Target (issue 4): ≥ 100,000 decide() calls per second. Last line: one JSON object.

`--instructions` counts machine instructions per decide() instead, under valgrind's callgrind
(two runs: warm-up only, then warm-up plus 2 passes over 2,000 cases; the difference over 4,000
decisions), with PYTHONHASHSEED=0: a figure that repeats exactly whatever the machine's speed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from campaigns import geography  # noqa: E402
from campaigns.compliance import (  # noqa: E402
    Contact,
    Event,
    EventKind,
    Pack,
    decide,
    load_policies,
)
from campaigns.compliance.inputs import zone_sources_for  # noqa: E402

TARGET = 100_000
COUNTRIES = ("MX", "CO", "US", "PE", "CL")
CHANNELS = ("voice_prerecorded", "voice_live", "sms")


def _phone(rng: random.Random, country: str) -> tuple[str, str]:
    import phonenumbers

    codes = geography.area_codes(country)
    while True:
        code = rng.choice(codes)
        digits = code.prefix + rng.choice(code.subscriber_first_digits)
        digits += "".join(
            rng.choice("0123456789") for _ in range(code.national_length - len(digits))
        )
        number = phonenumbers.parse(digits, country)
        if phonenumbers.is_valid_number(number):
            return phonenumbers.format_number(
                number, phonenumbers.PhoneNumberFormat.E164
            ), code.subdivision


def population(
    size: int, seed: int, max_events: int = 20, days: int = 14
) -> list[tuple[Contact, str, datetime, tuple[Event, ...]]]:
    """`size` cases; each history holds 0–`max_events` events over the `days` before its
    instant."""
    rng = random.Random(seed)
    start = datetime(2026, 11, 23, tzinfo=UTC)
    cases = []
    for i in range(size):
        country = COUNTRIES[i % len(COUNTRIES)]
        phone, subdivision = _phone(rng, country)
        address_zone = None
        if rng.random() < 0.10:
            address_zone = rng.choice(geography.country_zones(country))
        sources = zone_sources_for(phone, address_zone)
        contact = Contact(
            country=country,
            subdivision=subdivision or None,
            phone=phone,
            zones=tuple(dict.fromkeys(z for z, _ in sources)),
            zone_sources=sources,
            role=rng.choice(("debtor",) * 8 + ("aval", "reference")),
            line_type=rng.choice(("mobile", "fixed_line", "unknown")),
            provenance=rng.choice(("provided",) * 9 + ("skip_trace",)),
            consent=frozenset(rng.sample(("sms", "voice_prerecorded"), rng.randint(0, 2))),
            authorized_channels=(
                frozenset({"voice_live", "sms"}) if country == "CO" and rng.random() < 0.8 else None
            ),
            debt=f"D{i}",
            account_status="active",
        )
        at = start + timedelta(seconds=rng.randrange(7 * 86400))
        events = []
        for _ in range(rng.randint(0, max_events)):
            kind = rng.choice(
                (EventKind.ATTEMPT,) * 6
                + (EventKind.MESSAGE_SENT,) * 3
                + (EventKind.TWO_WAY_CONTACT,)
            )
            channel = "sms" if kind is EventKind.MESSAGE_SENT else rng.choice(CHANNELS[:2])
            events.append(
                Event(
                    kind,
                    at - timedelta(seconds=rng.randrange(days * 86400)),
                    channel,
                    contact.debt,
                    phone,
                    connected=rng.random() < 0.6,
                )
            )
        cases.append((contact, rng.choice(CHANNELS), at, tuple(sorted(events, key=lambda e: e.at))))
    return cases


def _reference_ns() -> float:
    """Nanoseconds per step of a fixed pure-Python loop (calls, attribute and dict lookups),
    the best of 5: how fast this machine runs Python right now. Its speed swings about 2× from
    one hour to the next here, and the decision rate with it; the ratio of the two is steadier."""

    class Box:
        __slots__ = ("n",)

        def __init__(self) -> None:
            self.n = 0

    def step(box: Box, table: dict[int, int], i: int) -> None:
        box.n += table.get(i & 255, 1)

    table = {i: i for i in range(256)}
    best = float("inf")
    for _ in range(5):
        box = Box()
        started = time.perf_counter()
        for i in range(200_000):
            step(box, table, i)
        best = min(best, time.perf_counter() - started)
    return best / 200_000 * 1e9


def _count_instructions(quick: bool) -> dict[str, object]:
    """Instructions per decide() under callgrind (see the module's docstring)."""
    if shutil.which("valgrind") is None:
        raise SystemExit("--instructions needs valgrind (apt-get install valgrind)")
    size = 250 if quick else 2_000
    totals = []
    for passes in (0, 2):
        run = subprocess.run(
            [
                "valgrind",
                "--tool=callgrind",
                "--callgrind-out-file=/dev/null",
                sys.executable,
                __file__,
                "--passes-under-valgrind",
                f"{passes},{size}",
            ],
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONHASHSEED": "0"},
            check=True,
        )
        found = re.search(r"Collected : (\d+)", run.stderr)
        if found is None:
            raise SystemExit(f"callgrind printed no total:\n{run.stderr[-2000:]}")
        totals.append(int(found.group(1)))
    per = (totals[1] - totals[0]) / (2 * size)
    return {
        "bench": "compliance_instructions",
        "decisions": 2 * size,
        "instructions_per_decision": round(per),
        "machine": f"{platform.machine()} {os.cpu_count()} CPU, Python {platform.python_version()}",
        "date": time.strftime("%Y-%m-%d"),
        # No target of its own: the target is wall-clock decisions per second.
        "targets": {},
        "met": {},
    }


Case = tuple[Contact, str, datetime, tuple[Event, ...], tuple[Pack, ...]]


def _cases(size: int, max_events: int = 20, days: int = 14) -> list[Case]:
    """The population with each contact's packs selected as the product does (not timed)."""
    policies = load_policies()
    return [
        (
            contact,
            channel,
            at,
            history,
            policies.for_contact(contact.country, contact.subdivision, "financial", "third_party"),
        )
        for contact, channel, at, history in population(size, 3, max_events, days)
    ]


def _passes(spec: str) -> None:
    """Under valgrind: warm up over `size` cases, then decide them `passes` more times."""
    passes, size = (int(x) for x in spec.split(","))
    cases = _cases(size)
    for _ in range(1 + passes):
        for contact, channel, at, history, packs in cases:
            decide(contact, channel, at, history, packs)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--decisions", type=int, default=300_000)
    parser.add_argument("--quick", action="store_true", help="50,000 decisions")
    parser.add_argument(
        "--instructions", action="store_true", help="count instructions per decide() (valgrind)"
    )
    parser.add_argument(
        "--history-events", type=int, default=20, help="at most this many events a history (20)"
    )
    parser.add_argument(
        "--history-days", type=int, default=14, help="spread over this many days before (14)"
    )
    parser.add_argument("--passes-under-valgrind", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.passes_under_valgrind:
        _passes(args.passes_under_valgrind)
        return 0
    if args.instructions:
        figures = _count_instructions(args.quick)
        print(f"{figures['instructions_per_decision']:,} instructions per decide()")
        print(json.dumps(figures))
        return 0
    total = 50_000 if args.quick else args.decisions
    cases = _cases(5_000, args.history_events, args.history_days)
    for contact, channel, at, history, packs in cases:  # warm the caches
        decide(contact, channel, at, history, packs)
    reference = _reference_ns()
    allowed = 0
    started = time.perf_counter()
    done = 0
    while done < total:
        for contact, channel, at, history, packs in cases:
            allowed += decide(contact, channel, at, history, packs).allowed
            done += 1
            if done == total:
                break
    seconds = time.perf_counter() - started
    rate = total / seconds
    figures = {
        "bench": "compliance",
        "decisions": total,
        "seconds": round(seconds, 2),
        "decisions_per_s": round(rate),
        "allowed_share": round(allowed / total, 3),
        "history": {"max_events": args.history_events, "days": args.history_days},
        "microseconds_per_decision": round(1e6 / rate, 1),
        # The machine's Python speed during the run (see _reference_ns): lower is faster.
        "reference_loop_ns": round(reference, 1),
        "decision_in_reference_loops": round(1e9 / rate / reference, 1),
        "targets": {"decisions_per_s": TARGET},
        "met": {"decisions_per_s": rate >= TARGET},
        "machine": f"{platform.machine()} {os.cpu_count()} CPU, Python {platform.python_version()}",
        "date": time.strftime("%Y-%m-%d"),
    }
    print(
        f"{total:,} decisions in {seconds:.2f} s on one core → {rate:,.0f}/s "
        f"({1e6 / rate:.1f} µs each; {allowed / total:.0%} allowed); target {TARGET:,}/s; "
        f"reference loop {reference:.1f} ns/step"
    )
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
