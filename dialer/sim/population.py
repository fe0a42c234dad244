"""Who picks up, when, and what they press: the synthetic debtor population.

Defaults follow published outbound-collections figures (right-party contact 15–30 % of dials,
answering machines 25–35 % of answers, busy a few per cent, 5–10 % bad numbers), with answer
rates that rise at lunch and in the early evening and fall on Sundays. Every figure is a field,
and a script is a pure function of the number, the local time and a seeded RNG.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from functools import lru_cache
from typing import Protocol
from zoneinfo import ZoneInfo

import phonenumbers
from phonenumbers import timezone as pn_timezone

from dialer.pacing import lognormal_params

__all__ = [
    "LAB_PREFIXES",
    "LAB_VARIABLES",
    "AgentCampaignModel",
    "CallScript",
    "Fate",
    "Population",
    "PopulationModel",
    "lab_script",
    "local_time",
]


class Fate(StrEnum):
    """How a dialled call will end, decided before it rings."""

    HUMAN = "human"
    MACHINE = "machine"
    BUSY = "busy"
    NO_ANSWER = "no_answer"
    CONGESTION = "congestion"
    REJECTED = "rejected"
    INVALID = "invalid"


@dataclass(frozen=True, slots=True)
class CallScript:
    """The far end's behaviour for one call; both simulator faces play it out."""

    fate: Fate
    ring_seconds: float = 2.0  # until answer, busy or rejection (no-answer rings until timeout)
    amd_seconds: float = 3.0  # how long AMD listens before it decides
    amd_cause: str = "HUMAN-803-800"
    right_party: bool = True
    keys: tuple[str, ...] = ()  # digits pressed, one per prompt that asks for one
    key_delay_seconds: float = 3.0  # from a prompt's start (or the answer, see below) to the key
    hangup_after_seconds: float = 60.0  # the far end hangs up this long after answering
    cause: int = 16  # Q.850 cause of the far end's hang-up
    # The lab's debtor: one SendDTMF of all `keys`, `key_delay_seconds` after the answer,
    # whether or not a prompt listens (instead of one key per prompt that asks for one).
    keys_after_answer: bool = False
    # What the machine detector will report ("" = the truth: MACHINE for a machine, else HUMAN);
    # differs from the fate when AMD is wrong.
    amd_status: str = ""
    talk_seconds: float = 0.0  # with an agent, until the debtor (or the agent) hangs up
    promise: bool = False  # an agent who talks with this debtor gets a promise to pay

    @property
    def detected(self) -> str:
        """The AMD verdict this call will get."""
        if self.amd_status:
            return self.amd_status
        return "MACHINE" if self.fate is Fate.MACHINE else "HUMAN"

    def key_times(self) -> tuple[float, ...]:
        """Seconds after the answer at which each key's DTMF ends (`keys_after_answer` only)."""
        if not self.keys_after_answer:
            return ()
        start = self.key_delay_seconds + DTMF_FIRST_END_SECONDS
        return tuple(start + index * DTMF_STEP_SECONDS for index in range(len(self.keys)))


# SendDTMF(digits,250) as the lab recorded it: the first tone ends 0.2 s after the application
# starts, each further digit 0.35 s later (100 ms tone + 250 ms pause), and the application
# returns 0.1 s + 0.35 s per digit after it started (dtmf-timeout-and-interrupt.txt, human-amd.txt).
DTMF_FIRST_END_SECONDS = 0.2
DTMF_STEP_SECONDS = 0.35


def send_dtmf_seconds(digits: str) -> float:
    """How long the lab's SendDTMF(digits,250) runs."""
    return 0.1 + DTMF_STEP_SECONDS * len(digits) if digits else 0.0


# The Originate channel variables the lab's [debtor-sim] dialplan reads (5550001… all three,
# 5550006… only DTMF_DIGITS), see the transcripts' README.
LAB_VARIABLES = ("DTMF_DIGITS", "DTMF_DELAY", "HANGUP_AFTER")
_DTMF_KEYS = "0123456789*#ABCD"
# 5550006…: answer → silence/1, hello, silence/5 → SendDTMF took 7.28 s (human-amd.txt).
_HELLO_THEN_SILENCE_SECONDS = 7.28

# The transcripts' lab numbers (national digits) keep their recorded behaviour.
LAB_PREFIXES: dict[str, CallScript] = {
    "5550001": CallScript(
        Fate.HUMAN,
        ring_seconds=2.0,
        keys=("1",),
        key_delay_seconds=3.0,
        hangup_after_seconds=3.0 + send_dtmf_seconds("1") + 8.0,
        keys_after_answer=True,
    ),
    "5550002": CallScript(Fate.BUSY, ring_seconds=0.0, cause=17),
    "5550003": CallScript(Fate.NO_ANSWER, ring_seconds=120.0, cause=19),
    "5550004": CallScript(Fate.CONGESTION, ring_seconds=0.0, cause=34),
    "5550005": CallScript(
        Fate.MACHINE,
        ring_seconds=1.0,
        amd_seconds=3.2,
        amd_cause="LONGGREETING-1500-1500",
        hangup_after_seconds=17.0,
    ),
    "5550006": CallScript(
        Fate.HUMAN,
        ring_seconds=1.0,
        amd_seconds=3.0,
        keys=("2",),
        key_delay_seconds=_HELLO_THEN_SILENCE_SECONDS,
        hangup_after_seconds=_HELLO_THEN_SILENCE_SECONDS + send_dtmf_seconds("2") + 5.0,
        keys_after_answer=True,
    ),
    "5550007": CallScript(Fate.HUMAN, ring_seconds=0.0, keys=(), hangup_after_seconds=4.0),
    "5550008": CallScript(Fate.REJECTED, ring_seconds=1.0, cause=21),
}


def _national_digits(number: str) -> str:
    digits = "".join(ch for ch in number if ch.isdigit())
    try:
        parsed = phonenumbers.parse(number if number.startswith("+") else "+" + digits)
        return str(parsed.national_number)
    except phonenumbers.NumberParseException:
        return digits


def lab_script(number: str, variables: Mapping[str, str] | None = None) -> CallScript | None:
    """The recorded behaviour of a lab number (5550001… answers, 5550002… busy …), if it is one.

    `variables` are the Originate's channel variables; the ones the lab's `[debtor-sim]` reads
    (`LAB_VARIABLES`) change the debtor the way they changed it there.
    """
    digits = "".join(ch for ch in number if ch.isdigit())
    for candidate in (digits, _national_digits(number)):
        script = LAB_PREFIXES.get(candidate[:7])
        if script is not None and len(candidate) == 10:
            return _with_lab_variables(candidate[:7], script, variables or {})
    return None


def _lab_seconds(variables: Mapping[str, str], name: str, default: float) -> float:
    """A `Wait(${NAME})` argument: Asterisk reads a bad or negative number as no wait."""
    text = variables.get(name, "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        return 0.0
    return value if value > 0 else 0.0


def _lab_digits(variables: Mapping[str, str], default: str) -> str:
    """The keys of `SendDTMF(${DTMF_DIGITS})`; its pauses (w, W) and flash (f) are left out."""
    text = variables.get("DTMF_DIGITS", "")
    if not text:
        return default
    return "".join(ch.upper() for ch in text if ch.upper() in _DTMF_KEYS)


def _with_lab_variables(
    prefix: str, script: CallScript, variables: Mapping[str, str]
) -> CallScript:
    """The `[debtor-sim]` extension of `prefix` with DTMF_DIGITS, DTMF_DELAY, HANGUP_AFTER."""
    if not any(name in variables for name in LAB_VARIABLES):
        return script
    if prefix == "5550001":  # Wait(DTMF_DELAY=3), SendDTMF(DTMF_DIGITS=1), Wait(HANGUP_AFTER=8)
        digits = _lab_digits(variables, "1")
        delay = _lab_seconds(variables, "DTMF_DELAY", 3.0)
        after = _lab_seconds(variables, "HANGUP_AFTER", 8.0)
        return replace(
            script,
            keys=tuple(digits),
            key_delay_seconds=delay,
            hangup_after_seconds=delay + send_dtmf_seconds(digits) + after,
        )
    if prefix == "5550006":  # hello, silence, SendDTMF(DTMF_DIGITS=2), Playback(silence/5)
        digits = _lab_digits(variables, "2")
        return replace(
            script,
            keys=tuple(digits),
            hangup_after_seconds=script.key_delay_seconds + send_dtmf_seconds(digits) + 5.0,
        )
    return script  # the other lab numbers ignore the variables, as [debtor-sim] does


@lru_cache(maxsize=4096)
def _zone_of(number: str) -> ZoneInfo | None:
    try:
        parsed = phonenumbers.parse(number)
    except phonenumbers.NumberParseException:
        return None
    zones = [z for z in pn_timezone.time_zones_for_number(parsed) if "/" in z]
    return ZoneInfo(zones[0]) if zones else None


def local_time(number: str, at: datetime) -> datetime:
    """The wall clock at the number's (first) time zone; UTC when the number has none."""
    tz = _zone_of(number)
    return at.astimezone(tz) if tz is not None else at


def _default_hourly() -> tuple[float, ...]:
    # Relative answer propensity by local hour (0–23): low in the morning, peaks at lunch and
    # in the early evening (industry contact-rate curves).
    return (
        (0.2,) * 7
        + (0.55, 0.75, 0.85, 0.9, 0.95, 1.05, 1.1, 0.95, 0.9, 0.95, 1.1, 1.2, 1.15, 1.0, 0.7)
        + (0.4, 0.3)
    )


class Population(Protocol):
    """Anything that writes the far end's script for one dial (both simulator faces take one)."""

    def script(self, number: str, at: datetime, rng: random.Random) -> CallScript: ...


@dataclass(frozen=True, slots=True)
class PopulationModel:
    """Probabilities of each fate and the shape of human behaviour; all fields configurable."""

    answer_rate: float = 0.32  # of valid, non-busy numbers at propensity 1.0
    machine_share: float = 0.30  # of answers
    busy_rate: float = 0.04
    invalid_rate: float = 0.06
    congestion_rate: float = 0.01
    rejected_rate: float = 0.03
    right_party_rate: float = 0.65  # of human answers
    ring_mean_seconds: float = 9.0
    ring_max_seconds: float = 28.0
    hourly: tuple[float, ...] = field(default_factory=_default_hourly)
    weekday: tuple[float, ...] = (1.0, 1.0, 1.0, 1.0, 0.95, 0.8, 0.55)  # Monday … Sunday
    # Keys a right party presses at the main menu: promise, agent, already paid, SMS link, stop.
    menu_keys: tuple[tuple[str, float], ...] = (
        ("1", 0.34),
        ("2", 0.14),
        ("3", 0.06),
        ("4", 0.10),
        ("9", 0.05),
    )
    hangup_mean_seconds: float = 45.0
    key_delay_mean_seconds: float = 3.5

    def __post_init__(self) -> None:
        for name in (
            "answer_rate",
            "machine_share",
            "busy_rate",
            "invalid_rate",
            "congestion_rate",
            "rejected_rate",
            "right_party_rate",
        ):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"population model: {name} must be between 0 and 1, not {value}")
        if len(self.hourly) != 24 or len(self.weekday) != 7:
            raise ValueError("population model: hourly needs 24 values and weekday 7 values")
        if sum(p for _, p in self.menu_keys) > 1.0:
            raise ValueError("population model: menu_keys probabilities add up to more than 1")

    def with_overrides(self, **changes: object) -> PopulationModel:
        return replace(self, **changes)  # type: ignore[arg-type]

    def answer_probability(self, local: datetime) -> float:
        """Probability that a valid, free line answers at this local time."""
        value = self.answer_rate * self.hourly[local.hour] * self.weekday[local.weekday()]
        return min(1.0, value)

    def script(self, number: str, at: datetime, rng: random.Random) -> CallScript:
        """The far end's behaviour for a call to `number` placed at `at` (UTC)."""
        lab = lab_script(number)
        if lab is not None:
            return lab
        draw = rng.random()
        if draw < self.invalid_rate:
            return CallScript(Fate.INVALID, ring_seconds=0.0, cause=1)
        draw -= self.invalid_rate
        if draw < self.busy_rate:
            return CallScript(Fate.BUSY, ring_seconds=0.0, cause=17)
        draw -= self.busy_rate
        if draw < self.congestion_rate:
            return CallScript(Fate.CONGESTION, ring_seconds=0.0, cause=34)
        ring = min(self.ring_max_seconds, 1.0 + rng.expovariate(1.0 / self.ring_mean_seconds))
        if rng.random() < self.rejected_rate:
            return CallScript(Fate.REJECTED, ring_seconds=min(ring, 6.0), cause=21)
        if rng.random() >= self.answer_probability(local_time(number, at)):
            return CallScript(Fate.NO_ANSWER, ring_seconds=120.0, cause=19)
        if rng.random() < self.machine_share:
            return CallScript(
                Fate.MACHINE,
                ring_seconds=ring,
                amd_seconds=round(rng.uniform(2.8, 3.6), 2),
                amd_cause="LONGGREETING-1500-1500",
                hangup_after_seconds=round(rng.uniform(15.0, 40.0), 1),
            )
        right_party = rng.random() < self.right_party_rate
        keys: tuple[str, ...] = ()
        if right_party:
            pick = rng.random()
            for digit, probability in self.menu_keys:
                if pick < probability:
                    keys = ("1", digit)  # "1" confirms identity, then the menu choice
                    break
                pick -= probability
            else:
                keys = ("1",) if rng.random() < 0.5 else ()
        return CallScript(
            Fate.HUMAN,
            ring_seconds=ring,
            amd_seconds=round(rng.uniform(2.5, 3.4), 2),
            amd_cause=f"HUMAN-{rng.randint(500, 1200)}-800",
            right_party=right_party,
            keys=keys,
            key_delay_seconds=round(max(0.8, rng.gauss(self.key_delay_mean_seconds, 1.2)), 2),
            hangup_after_seconds=round(
                max(4.0, rng.expovariate(1.0 / self.hangup_mean_seconds) + 8.0), 1
            ),
        )


def _human_by_hour() -> tuple[tuple[float, float], ...]:
    # (local hour, share of dials a live person answers): 12 % at 09:00 rising to 28 % at
    # 19:00, with a dip over lunch (issue 6's default population).
    return ((0.0, 0.12), (9.0, 0.12), (12.0, 0.17), (13.0, 0.13), (14.5, 0.15), (16.0, 0.22),
            (19.0, 0.28), (24.0, 0.28))  # fmt: skip


@dataclass(frozen=True, slots=True)
class AgentCampaignModel:
    """The population of an agent campaign, as shares of dials by local hour (the pacing
    benchmark's default: human 12 % at 09:00 rising to 28 % at 19:00 with a lunch dip, machine
    25 %, busy 10 %, invalid 10 %, the rest unanswered; talk lognormal, mean 150 s; AMD wrong
    on 5 % of humans and 10 % of machines).

    `zone` is the debtors' local zone (one zone: a pacing run needs no geography); `step_at`
    (local hour) and `step` multiply the human share from then on (a ±50 % step test)."""

    zone: str = "America/Mexico_City"
    human_by_hour: tuple[tuple[float, float], ...] = field(default_factory=_human_by_hour)
    machine: float = 0.25
    busy: float = 0.10
    invalid: float = 0.10
    ring_mean_seconds: float = 12.0
    ring_cv: float = 0.5
    busy_after_seconds: float = 4.0
    invalid_after_seconds: float = 2.0
    amd_seconds: float = 2.5
    human_as_machine: float = 0.05  # AMD errors
    machine_as_human: float = 0.10
    talk_mean_seconds: float = 150.0
    talk_cv: float = 0.8
    promise_rate: float = 0.25  # of conversations with an agent
    step_at: float | None = None
    step: float = 1.0

    def __post_init__(self) -> None:
        for name in ("machine", "busy", "invalid", "human_as_machine", "machine_as_human",
                     "promise_rate"):  # fmt: skip
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(
                    f"agent campaign model: {name} must be between 0 and 1, not {value}"
                )
        hours = [h for h, _ in self.human_by_hour]
        if hours != sorted(hours) or not hours or hours[0] > 0.0 or hours[-1] < 24.0:
            raise ValueError("agent campaign model: human_by_hour must cover 0–24 h in order")
        peak = max(v for _, v in self.human_by_hour) * max(1.0, self.step)
        if peak + self.machine + self.busy + self.invalid > 1.0:
            raise ValueError(
                "agent campaign model: human, machine, busy and invalid shares add up to more "
                "than 1 at some hour"
            )
        ZoneInfo(self.zone)  # an unknown zone fails here, not at the first dial

    def with_overrides(self, **changes: object) -> AgentCampaignModel:
        return replace(self, **changes)  # type: ignore[arg-type]

    def human_share(self, local_hour: float) -> float:
        """Share of dials a live person answers at this local hour (linear between anchors)."""
        points = self.human_by_hour
        share = points[-1][1]
        for (h0, v0), (h1, v1) in itertools.pairwise(points):
            if h0 <= local_hour <= h1:
                share = v0 if h1 == h0 else v0 + (v1 - v0) * (local_hour - h0) / (h1 - h0)
                break
        if self.step_at is not None and local_hour >= self.step_at:
            share *= self.step
        return share

    def _lognormal(self, rng: random.Random, mean: float, cv: float) -> float:
        return rng.lognormvariate(*lognormal_params(mean, cv))

    def script(self, number: str, at: datetime, rng: random.Random) -> CallScript:
        local = at.astimezone(ZoneInfo(self.zone))  # ZoneInfo caches its instances
        hour = local.hour + local.minute / 60 + local.second / 3600
        human = self.human_share(hour)
        draw = rng.random()
        if draw < self.invalid:
            return CallScript(Fate.INVALID, ring_seconds=self.invalid_after_seconds, cause=1)
        draw -= self.invalid
        if draw < self.busy:
            return CallScript(Fate.BUSY, ring_seconds=self.busy_after_seconds, cause=17)
        draw -= self.busy
        ring = self._lognormal(rng, self.ring_mean_seconds, self.ring_cv)
        if draw < human:
            wrong = rng.random() < self.human_as_machine
            return CallScript(
                Fate.HUMAN,
                ring_seconds=ring,
                amd_seconds=self.amd_seconds,
                amd_status="MACHINE" if wrong else "",
                talk_seconds=self._lognormal(rng, self.talk_mean_seconds, self.talk_cv),
                promise=rng.random() < self.promise_rate,
                hangup_after_seconds=self.amd_seconds + 15.0,  # if it reaches nobody
            )
        draw -= human
        if draw < self.machine:
            wrong = rng.random() < self.machine_as_human
            return CallScript(
                Fate.MACHINE,
                ring_seconds=ring,
                amd_seconds=self.amd_seconds,
                amd_cause="LONGGREETING-1500-1500",
                amd_status="HUMAN" if wrong else "",
                talk_seconds=8.0,  # an agent who gets a machine hangs up
                hangup_after_seconds=self.amd_seconds + 25.0,
            )
        return CallScript(Fate.NO_ANSWER, ring_seconds=120.0, cause=19)
