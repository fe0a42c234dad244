"""The dialer: due contacts in, calls out, outcomes recorded. One `step()` for every driver.

Durable and exactly-once: a contact is claimed with a lease, the compliance decision and the
attempt are committed *before* the originate leaves the process, every backend event is
appended, and the outcome (with the contact's next step) is committed before that contact can
be claimed again — it stays `in_progress` under its lease until then, so it is never rung on two
lines at once. The same `step()` runs under the real-time driver (production) and the virtual
driver (rehearsal, demo, benchmarks).

Hot path (hundreds of calls a second on one core): a claim is one UPDATE … RETURNING plus one
query each for the contacts, their histories and their outcome counts; a launch is one
transaction of batched Core inserts; events, attempt states and outcomes are written in one
transaction per flush with executemany. A `step()` with nothing due costs O(1): calls to settle
wait in a heap, not in a scan of every call in flight.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import uuid
from collections import Counter, defaultdict, deque
from collections.abc import Callable, Coroutine, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Protocol

import structlog
from sqlalchemy import Table, Update, bindparam, delete, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from campaigns.abandons import abandon_report
from campaigns.compliance import Contact, Decision, Event, Pack, PolicySet, decide
from campaigns.compliance.store import contact_rows, decision_values, histories
from campaigns.enums import (
    AttemptOutcome,
    CallState,
    Channel,
    ContactStatus,
    Direction,
    PhoneRole,
    SmsStatus,
)
from campaigns.followups import abandon_apology, abandon_sms
from campaigns.models import Attempt, Campaign, CampaignContact, DecisionLog, SmsMessage
from campaigns.models import CallEvent as CallEventRow
from config.logging import mask_phone
from dialer.backends.base import Backend, CallRoute, OriginateRequest
from dialer.callerid import CallerIdPicker, Target
from dialer.callerid_store import flush as flush_numbers
from dialer.calls import Call, CallEvent, Signal
from dialer.clock import Clock, VirtualClock
from dialer.dispatch import AGENT_MODES, AbandonCall, BridgeCall, Dispatch, Team
from dialer.errors import BackendError, CallerIdError, DialerError, OriginateOutcomeUnknown
from dialer.pacing import PacingError, PacingMode, PacingSettings
from dialer.retry import RetryPolicy
from dialer.throttle import CallLimiter, TokenBucket

__all__ = [
    "CallerIdChoice",
    "CallerIdSource",
    "Dialer",
    "DialerOptions",
    "FixedCallerId",
    "PacingSetupError",
    "PooledCallerIds",
    "campaign_pacing",
]

log = structlog.get_logger(__name__)
# Agent modes whose answered calls wait for an agent (an IVR transfer starts in the IVR).
_AGENT_ROUTED = AGENT_MODES - {PacingMode.IVR_TRANSFER}
_NO_NUMBER_LOG_EVERY = timedelta(minutes=15)
_ROLE_ORDER = {PhoneRole.DEBTOR: 0, PhoneRole.AVAL: 1, PhoneRole.OBLIGADO_SOLIDARIO: 1}
# Outcomes worth a log line: the call did not work for a technical reason or a bad number.
_LOGGED_OUTCOMES = frozenset(
    {AttemptOutcome.FAILED, AttemptOutcome.INVALID_NUMBER, AttemptOutcome.CONGESTION}
)
_ATTEMPTS: Table = Attempt.__table__  # type: ignore[assignment]
_CONTACTS: Table = CampaignContact.__table__  # type: ignore[assignment]
_DECISIONS: Table = DecisionLog.__table__  # type: ignore[assignment]
_EVENTS: Table = CallEventRow.__table__  # type: ignore[assignment]
_SMS: Table = SmsMessage.__table__  # type: ignore[assignment]


class PacingSetupError(DialerError):
    """The campaign's pacing cannot run here (a bad setting, or agents it needs and has not);
    the message names the campaign, the setting and the fix."""


def campaign_pacing(
    mode: str, options: dict[str, Any] | None, defaults: DialerOptions
) -> PacingSettings:
    """A campaign's pacing from its `pacing_mode` and `options["pacing"]`; the CPS, burst and
    channel limits the campaign does not set are the dialer's (its trunk's)."""
    given = dict((options or {}).get("pacing") or {})
    given.setdefault("cps", defaults.cps)
    given.setdefault("burst", defaults.burst)
    given.setdefault("max_channels", defaults.max_concurrent)
    return PacingSettings.from_options(mode, given)


def _set_by_id(table: Table, columns: Iterable[str]) -> Update:
    """`UPDATE table SET col = :b_col … WHERE id = :b_id`, for executemany with one dict a row."""
    return (
        update(table)
        .where(table.c.id == bindparam("b_id"))
        .values({name: bindparam(f"b_{name}", type_=table.c[name].type) for name in columns})
    )


_PROGRESS_COLUMNS = ("state", "originated_at", "answered_at", "ended_at")
_FINAL_COLUMNS = (*_PROGRESS_COLUMNS, "outcome", "hangup_cause", "lease_owner", "lease_expires_at")
_AFTER_COLUMNS = (
    "status",
    "next_attempt_at",
    "attempts",
    "last_outcome",
    "lease_owner",
    "lease_expires_at",
)
_PARK_COLUMNS = ("status", "next_attempt_at", "lease_owner", "lease_expires_at")
_ATTEMPT_PROGRESS = _set_by_id(_ATTEMPTS, _PROGRESS_COLUMNS)
_ATTEMPT_FINAL = _set_by_id(_ATTEMPTS, _FINAL_COLUMNS)
_CONTACT_AFTER = _set_by_id(_CONTACTS, _AFTER_COLUMNS)
_CONTACT_PARK = _set_by_id(_CONTACTS, _PARK_COLUMNS)


@dataclass(frozen=True, slots=True)
class CallerIdChoice:
    number_id: int | None
    e164: str
    reason: str


class CallerIdSource(Protocol):
    """Chooses the number presented to one debtor phone (see `dialer.callerid`)."""

    def choose(
        self, phone: str, country: str | None, zones: tuple[str, ...], now: datetime
    ) -> CallerIdChoice: ...

    def result(
        self,
        number_id: int | None,
        outcome: AttemptOutcome,
        talk_seconds: float,
        now: datetime,
        cause: int | None = None,
    ) -> None: ...

    async def persist(self, sessions: async_sessionmaker[AsyncSession]) -> None: ...


class PooledCallerIds:
    """A campaign's caller-ID pool (`dialer.callerid`) as the dialer's source of numbers."""

    def __init__(self, picker: CallerIdPicker) -> None:
        self.picker = picker

    def choose(
        self, phone: str, country: str | None, zones: tuple[str, ...], now: datetime
    ) -> CallerIdChoice:
        choice = self.picker.pick(Target.for_phone(phone, zones=zones), now)
        return CallerIdChoice(choice.number.id, choice.number.e164, choice.reason)

    def result(
        self,
        number_id: int | None,
        outcome: AttemptOutcome,
        talk_seconds: float,
        now: datetime,
        cause: int | None = None,
    ) -> None:
        if number_id is not None:
            self.picker.record_result(number_id, outcome, talk_seconds, now, cause=cause)

    async def persist(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        """Write the numbers' last use, rest and health (one batched UPDATE)."""
        if self.picker.pending():
            async with sessions() as session:
                await flush_numbers(session, self.picker)


@dataclass(frozen=True)
class FixedCallerId:
    """One number for every call (tests, and agencies with a single DID)."""

    e164: str

    def choose(
        self, phone: str, country: str | None, zones: tuple[str, ...], now: datetime
    ) -> CallerIdChoice:
        return CallerIdChoice(None, self.e164, "single number")

    def result(
        self,
        number_id: int | None,
        outcome: AttemptOutcome,
        talk_seconds: float,
        now: datetime,
        cause: int | None = None,
    ) -> None:
        return None

    async def persist(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        return None


@dataclass(frozen=True)
class DialerOptions:
    node: str = "node-1"
    channel: Channel = Channel.VOICE_PRERECORDED
    max_concurrent: int = 30
    cps: float = 5.0
    burst: int = 1
    lease: timedelta = timedelta(minutes=10)
    settle_grace: timedelta = timedelta(seconds=2)
    # Events are appended in batches: at least this often, and at once when a call settles.
    flush_every: timedelta = timedelta(seconds=2)
    settle_flush: timedelta = timedelta(milliseconds=500)  # outcomes wait at most this long
    claim_interval: timedelta = timedelta(seconds=5)  # between claims when nothing was due
    claim_ahead: int = 20  # contacts leased per claim, decided one by one as lines free up
    # Calls decided and written together (one transaction for their decisions and attempts).
    # Above 1, up to 2 × (launch_batch - 1) calls are written ahead of their CPS tokens, so
    # they keep leaving, one a token, while the next batch is being written.
    launch_batch: int = 1
    ring_timeout_seconds: float = 30.0
    detect_machine: bool = True
    history_days: int = 35
    # A running campaign's pacing is read again this often: a manager's change takes effect
    # without a restart.
    pacing_refresh: timedelta = timedelta(seconds=30)
    creditor_sector: str | None = "financial"
    collector_role: str | None = "third_party"
    caller_name: str = ""


@dataclass
class _InFlight:
    call: Call
    attempt_id: int
    contact_id: int
    phone_id: int
    phone: str
    caller_number_id: int | None
    attempts_before: int
    outcome_counts: Counter[AttemptOutcome]
    other_phones: int
    stored_state: CallState = CallState.QUEUED
    stored: tuple[Any, ...] = ()  # (state, originated, answered, ended) as last written
    settle_queued: bool = False  # in the settle heap
    account_id: int | None = None
    caller_e164: str = ""


@dataclass(frozen=True, slots=True)
class _Candidate:
    contact: Contact
    debtor_id: int
    account_id: int
    phone_id: int
    e164: str
    role: PhoneRole


@dataclass(frozen=True, slots=True)
class _Ready:
    """A leased contact waiting for a line: what deciding it needs, loaded in the claim."""

    contact_id: int
    attempts: int
    outcome_counts: Counter[AttemptOutcome]
    candidates: tuple[_Candidate, ...]
    histories: dict[int, tuple[Event, ...]]


@dataclass(frozen=True, slots=True)
class _Chosen:
    """An allowed call: its attempt row (id filled once inserted) and its decision's row."""

    ready: _Ready
    attempt: dict[str, Any]
    decision: int  # index in the launch's decision rows
    phone: str
    other_phones: int
    reason_kind: str


@dataclass(frozen=True, slots=True)
class _Prepared:
    """A call decided and written, waiting for its CPS token."""

    flight: _InFlight
    request: OriginateRequest
    reason_kind: str


@dataclass
class DialerStats:
    claimed: int = 0
    originated: int = 0
    denied: int = 0
    blocked: int = 0
    settled: int = 0
    events: int = 0
    orphan_events: int = 0
    originate_errors: int = 0
    caller_id_waits: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    caller_ids: Counter[str] = field(default_factory=Counter)
    answered: int = 0
    bridged: int = 0  # answered calls moved to an agent
    abandoned: int = 0  # answered calls no agent took in time (apology played)
    followups_queued: int = 0  # SMS follow-ups of abandoned calls, queued for the SMS sender


class Dialer:
    """Runs one campaign on one backend from one node."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        backend: Backend,
        campaign_id: int,
        policies: PolicySet,
        *,
        clock: Clock,
        caller_ids: CallerIdSource,
        options: DialerOptions | None = None,
        retry: RetryPolicy | None = None,
        on_settled: Callable[[Call], None] | None = None,
        team: Team | None = None,
    ) -> None:
        self.sessions = sessions
        self.backend = backend
        self.campaign_id = campaign_id
        self.policies = policies
        self.clock = clock
        self.caller_ids = caller_ids
        self.options = options or DialerOptions()
        self.retry = retry or RetryPolicy()
        if self.options.launch_batch < 1:
            raise ValueError(f"launch_batch must be at least 1, not {self.options.launch_batch}")
        self.limiter = CallLimiter(
            self.options.max_concurrent, TokenBucket(self.options.cps, self.options.burst)
        )
        self.stats = DialerStats()
        self.on_settled = on_settled
        self.team = team
        self.dispatch: Dispatch | None = None  # agent modes: the pacer and the agent floor
        self.pacing: PacingSettings | None = None
        self._pacing_read_at = clock.now()
        # No caller ID may be presented before this (the pool is resting or cooling down):
        # deciding more contacts would only park them, so the dialer waits instead.
        self._numbers_free_at: datetime | None = None
        self._no_number_logged_at = datetime.min.replace(tzinfo=clock.now().tzinfo)
        self._flights: dict[str, _InFlight] = {}
        self._ready: deque[_Ready] = deque()
        self._prepared: deque[_Prepared] = deque()
        self._realtime = not isinstance(clock, VirtualClock)  # pace calls during database I/O
        self._events: list[tuple[int, CallEvent]] = []
        self._dirty: set[str] = set()
        self._settling = False  # a settled call waits for its outcome to be written
        self._settle_heap: list[tuple[datetime, str]] = []  # (settle due, call id)
        self._packs: dict[tuple[str | None, str | None], tuple[Pack, ...]] = {}
        self._campaign: Campaign | None = None
        self._next_due: datetime | None = None
        self._exhausted = False
        self.wakeup = asyncio.Event()
        self._epoch = clock.now()
        self._flushed_at = self._epoch
        self._claimed_at = self._epoch - timedelta(days=1)

    # --- set-up -------------------------------------------------------------------------

    async def start(self) -> None:
        async with self.sessions() as session:
            campaign = await session.get(Campaign, self.campaign_id)
            if campaign is None:
                raise ValueError(f"campaign {self.campaign_id} does not exist")
            self._campaign = campaign
        self._apply_pacing(campaign.pacing_mode, campaign.options, self.clock.now())
        if self.dispatch is not None:
            await self._seed_abandons()
        await self.backend.start(self._on_event)
        await self.recover()

    async def recover(self) -> int:
        """Close attempts a previous run of this node left open: never dial them again.

        A call the backend still has is adopted (its events resume); any other open attempt
        ended while nobody listened: it is closed as `failed` with its contact released for a
        retry later, through compliance as always.
        """
        now = self.clock.now()
        async with self.sessions() as session, session.begin():
            rows = (
                (
                    await session.execute(
                        select(Attempt).where(
                            Attempt.campaign_id == self.campaign_id,
                            Attempt.outcome.is_(None),
                            (Attempt.lease_owner == self.options.node)
                            | (Attempt.lease_expires_at < now),
                        )
                    )
                )
                .scalars()
                .all()
            )
        if not rows:
            return 0
        live = await self.backend.live_calls()
        for attempt in rows:
            call_id = attempt.backend_call_id or f"recaudo-{attempt.id}"
            flight = await self._flight_for(attempt, call_id)
            self._flights[call_id] = flight
            if call_id in live:
                adopt = getattr(self.backend, "adopt", None)
                if adopt is not None:
                    adopt(call_id)
                self.limiter.in_flight += 1
                continue
            self.limiter.in_flight += 1
            flight.call.feed(CallEvent(call_id, Signal.FINAL, now, source="recovered"))
            self._dirty.add(call_id)
            self._track(flight)
        log.warning("dialer.recovered", open_attempts=len(rows), live=len(live))
        return len(rows)

    async def _flight_for(self, attempt: Attempt, call_id: str) -> _InFlight:
        call = Call(call_id, state=attempt.state)
        call.answered_at = attempt.answered_at
        async with self.sessions() as session:
            contact = await session.get(CampaignContact, attempt.contact_id)
            counts, _ = await self._outcome_counts(session, [attempt.contact_id or 0])
        return _InFlight(
            call,
            attempt.id,
            attempt.contact_id or 0,
            attempt.phone_id,
            "",
            attempt.caller_id_number_id,
            contact.attempts if contact else 0,
            counts.get(attempt.contact_id or 0, Counter()),
            0,
            attempt.state,
            account_id=attempt.account_id,
            caller_e164=attempt.caller_id_e164 or "",
        )

    async def close(self) -> None:
        """Write what is pending, hand back contacts leased but not dialled, disconnect."""
        await self._flush(self.clock.now(), force=True)
        await self._release_undialled()
        await self.backend.close()

    async def _release_undialled(self) -> None:
        """Hand back contacts leased but never dialled. A call decided and written but never
        originated (the dialer stopped first) had no attempt at contact: its attempt row goes
        (its allowed decision stays in the log) and its contact is due again."""
        if not self._ready and not self._prepared:
            return
        ids = [ready.contact_id for ready in self._ready]
        ids += [prepared.flight.contact_id for prepared in self._prepared]
        undialled = [prepared.flight.attempt_id for prepared in self._prepared]
        self._ready.clear()
        self._prepared.clear()
        self._exhausted = False
        async with self.sessions() as session, session.begin():
            if undialled:
                await session.execute(delete(_ATTEMPTS).where(_ATTEMPTS.c.id.in_(undialled)))
            await session.execute(
                update(_CONTACTS)
                .where(
                    _CONTACTS.c.id.in_(ids),
                    _CONTACTS.c.status == ContactStatus.IN_PROGRESS,
                    _CONTACTS.c.lease_owner == self.options.node,
                )
                .values(status=ContactStatus.PENDING, lease_owner=None, lease_expires_at=None)
            )

    def set_cps(self, cps: float, burst: int | None = None) -> None:
        """Change the CPS limit (and burst) while running, e.g. a manager's pacing change.
        Tokens earned at the old rate are kept (up to the new burst): no fresh burst is given."""
        bucket = self.limiter.bucket
        bucket.retune(
            self._seconds(self.clock.now()), cps, bucket.burst if burst is None else burst
        )
        self.options = replace(self.options, cps=bucket.rate, burst=bucket.burst)
        self.wakeup.set()

    # --- pacing -------------------------------------------------------------------------

    @property
    def pacing_label(self) -> str:
        """The pacing in use, as a manager reads it (e.g. "predictive, target 2.5 %")."""
        pacing = self.pacing
        if pacing is None:
            return "not started"
        if pacing.mode is PacingMode.PREDICTIVE:
            return f"predictive, target {100 * pacing.abandon_target:g} % abandoned"
        if pacing.mode is PacingMode.RATIO:
            return f"ratio {pacing.ratio:g} lines per agent"
        if pacing.mode is PacingMode.PROGRESSIVE:
            return f"progressive, {pacing.lines_per_agent:g} lines per ready agent"
        return pacing.mode.value

    def _apply_pacing(self, mode: str, options: dict[str, Any] | None, now: datetime) -> None:
        """Use the campaign's pacing: at start, and whenever a manager changes it."""
        try:
            settings = campaign_pacing(mode, options, self.options)
        except PacingError as exc:
            raise PacingSetupError(f"campaign {self.campaign_id}: {exc}") from None
        if settings == self.pacing:
            return
        before = self.pacing
        agents = settings.mode in AGENT_MODES
        if before is not None and agents != (before.mode in AGENT_MODES):
            log.warning(
                "dialer.pacing_mode_needs_restart",
                campaign=self.campaign_id,
                running=before.mode.value,
                asked=settings.mode.value,
            )
            return  # between agentless and agent pacing only a new run can switch
        if agents and self.team is None:
            raise PacingSetupError(
                f"campaign {self.campaign_id} paces {settings.mode.value}, which needs agents "
                "logged in; until the agent console lands only the simulator has them "
                "(python main.py campaign run ID --backend sim --agents N), or pace it blast "
                f"(python main.py campaign pace {self.campaign_id} blast)"
            )
        self.pacing = settings
        if agents:
            if self.dispatch is None:
                self.dispatch = Dispatch(
                    settings,
                    self._epoch,
                    team=self.team,
                    detect_machine=self.options.detect_machine,
                )
            else:
                self.dispatch.change(settings, now)
        else:
            given = (options or {}).get("pacing") or {}
            if "cps" in given or "burst" in given:
                self.set_cps(settings.cps, settings.burst)
            if "max_channels" in given:
                self.limiter.max_concurrent = settings.max_channels
        if before is not None:
            log.info(
                "dialer.pacing_changed",
                campaign=self.campaign_id,
                mode=settings.mode.value,
                changes=settings.as_options(),
            )

    async def _seed_abandons(self) -> None:
        """Earlier runs' live answers and abandons (30 days, by clock hour) count toward this
        run's rates: the FTC measures the campaign, not a process's lifetime."""
        dispatch = self.dispatch
        assert dispatch is not None
        async with self.sessions() as session:
            report = await abandon_report(session, self.campaign_id, self.clock.now())
        for hour, counts in report.by_hour:
            dispatch.stats.ledger.seed_hour(
                dispatch.seconds(hour), counts.live_answers, counts.abandons
            )

    async def _refresh_pacing(self, now: datetime) -> None:
        if now - self._pacing_read_at < self.options.pacing_refresh:
            return
        self._pacing_read_at = now
        async with self.sessions() as session:
            row = (
                await session.execute(
                    select(Campaign.pacing_mode, Campaign.options).where(
                        Campaign.id == self.campaign_id
                    )
                )
            ).first()
        if row is None:
            return
        try:
            self._apply_pacing(row[0], row[1], now)
        except PacingSetupError as exc:
            log.error("dialer.pacing_refused", campaign=self.campaign_id, error=str(exc))

    async def _act(self, now: datetime) -> None:
        """Carry out what the floor decided: bridges to agents, apologies of abandons."""
        dispatch = self.dispatch
        if dispatch is None:
            return
        for action in dispatch.actions(now):
            flight = self._flights.get(action.call_id)
            if flight is None:
                continue
            call_id = action.call_id
            if isinstance(action, BridgeCall):
                self.stats.bridged += 1
                try:
                    await self.backend.bridge(call_id, action.agent_id)
                except BackendError as exc:
                    log.error("dialer.bridge_failed", call_id=call_id, error=str(exc))
            elif isinstance(action, AbandonCall):
                flight.call.mark_abandoned()
                self._dirty.add(call_id)
                self.stats.abandoned += 1
                callback = flight.caller_e164
                try:
                    await self.backend.apologise(
                        call_id, abandon_apology(self.options.caller_name, callback)
                    )
                except BackendError as exc:
                    log.error("dialer.apology_failed", call_id=call_id, error=str(exc))
                    with contextlib.suppress(BackendError):
                        await self.backend.hangup(call_id)

    def _followup(self, flight: _InFlight, now: datetime) -> dict[str, Any]:
        """The SMS row queued for an abandoned call (the SMS sender sends it)."""
        text = abandon_sms(self.options.caller_name, flight.caller_e164)
        return {
            "direction": Direction.OUTBOUND,
            "phone_id": flight.phone_id,
            "account_id": flight.account_id,
            "campaign_id": self.campaign_id,
            "attempt_id": flight.attempt_id,
            "to_e164": flight.phone,
            "from_e164": flight.caller_e164,
            "body": text.body,
            "encoding": text.encoding,
            "segments": text.segments,
            "provider": "pending",
            "status": SmsStatus.QUEUED,
            "created_at": now,
        }

    # --- events (called by the backend, synchronously) -----------------------------------

    def _on_event(self, event: CallEvent) -> None:
        flight = self._flights.get(event.call_id)
        if flight is None:
            self.stats.orphan_events += 1
            return
        self.stats.events += 1
        flight.call.feed(event)
        dispatch = self.dispatch
        if dispatch is not None:
            dispatch.observe(flight.call, event)
            if dispatch.pending:
                self.wakeup.set()
        first = not self._events  # the next flush is now due at a time the driver must learn
        self._events.append((flight.attempt_id, event))
        self._dirty.add(event.call_id)
        if self._track(flight) or first:
            self.wakeup.set()  # only when the next wake-up moved earlier: not on every event

    def _track(self, flight: _InFlight) -> bool:
        """Note a settled call (its outcome is due) or queue the grace settle of an ended one;
        True when that brings `next_wakeup()` forward."""
        call = flight.call
        if call.settled:
            was, self._settling = self._settling, True
            return not was
        if not flight.settle_queued:
            due = call.settle_due(self.options.settle_grace)
            if due is not None:
                flight.settle_queued = True
                heapq.heappush(self._settle_heap, (due, call.call_id))
                return self._settle_heap[0][1] == call.call_id
        return False

    # --- the step -----------------------------------------------------------------------

    @property
    def in_flight(self) -> int:
        return len(self._flights)

    @property
    def finished(self) -> bool:
        """Nothing in flight and nothing due any more (a campaign day can end)."""
        return (
            self._exhausted
            and not self._flights
            and not self._ready
            and not self._prepared
            and self._next_due is None
        )

    def _seconds(self, now: datetime) -> float:
        return (now - self._epoch).total_seconds()

    async def step(self) -> None:
        """Settle, dial what is written and has its token, record, then prepare more calls.

        Database work never holds back a call that is ready: on a real clock, calls already
        decided and written keep leaving as their CPS tokens come while the step writes."""
        self.wakeup.clear()
        now = self.clock.now()
        heap = self._settle_heap
        while heap and heap[0][0] <= now:
            _, call_id = heapq.heappop(heap)
            flight = self._flights.get(call_id)
            if flight is not None and not flight.call.settled:
                flight.call.settle(now)
                self._dirty.add(call_id)
                self._settling = True
        await self._act(now)
        await self._dial(now)
        if self._realtime and self._prepared:
            await self._pace(self._io(now))
        else:
            await self._io(now)
        await self._dial(self.clock.now())

    async def _io(self, now: datetime) -> None:
        """The step's database work: record what happened, then decide and write more calls."""
        await self._flush(now)
        await self._refresh_pacing(now)
        count = self._to_prepare(now)
        if count > 0 and (
            self._ready
            or not self._exhausted
            or (
                self._next_due is not None
                and self._next_due <= now
                and now - self._claimed_at >= self.options.claim_interval
            )
        ):
            await self._prepare(now, count)

    async def _pace(self, work: Coroutine[Any, Any, None]) -> None:
        """Run `work` while dialling prepared calls as their tokens come."""
        task = asyncio.ensure_future(work)
        try:
            while not task.done():
                await self._dial(self.clock.now())
                limiter = self.limiter
                if not self._prepared or limiter.in_flight >= limiter.max_concurrent:
                    break
                wait = limiter.bucket.wait_time(self._seconds(self.clock.now()))
                await asyncio.wait({task}, timeout=max(wait, 0.001))
            await task
        finally:
            if not task.done():
                task.cancel()

    def _lookahead(self) -> int:
        """Calls decided and written ahead of their tokens (none with a launch batch of 1)."""
        return 2 * (self.options.launch_batch - 1)

    def _to_prepare(self, now: datetime) -> int:
        """How many calls to decide and write now: the tokens there are plus the look-ahead,
        less those already prepared, within free lines; nothing until a batch is worth it."""
        limiter = self.limiter
        free = limiter.max_concurrent - limiter.in_flight - len(self._prepared)
        if free <= 0 or (self._numbers_free_at is not None and now < self._numbers_free_at):
            return 0
        tokens = limiter.bucket.available(self._seconds(now))
        want = min(free, tokens + self._lookahead() - len(self._prepared))
        if self.dispatch is not None:
            # As many as the pacer last wished for, one ahead: written before they may leave.
            want = min(want, self.dispatch.last_wish + 1 - len(self._prepared))
        return want if want >= min(self.options.launch_batch, free) else 0

    def next_wakeup(self) -> datetime | None:
        """The next instant `step()` has work to do without any new event."""
        now = self.clock.now()
        candidates: list[datetime] = []
        if self._settle_heap:
            candidates.append(self._settle_heap[0][0])
        if self._events or self._dirty:
            pause = self.options.settle_flush if self._settling else self.options.flush_every
            candidates.append(self._flushed_at + pause)
        limiter = self.limiter
        free = limiter.max_concurrent - limiter.in_flight
        dispatch = self.dispatch
        if dispatch is not None and (
            self._flights or self._prepared or self._ready or not self._exhausted
        ):
            candidates.append(dispatch.next_wakeup(now))
        if free > 0:
            bucket, seconds = limiter.bucket, self._seconds(now)
            # A paced campaign dials what its pacer wishes (its tick covers the rest).
            wished = dispatch.last_wish if dispatch is not None else len(self._prepared)
            if self._prepared and wished > 0:
                wait = bucket.wait_time(seconds)
                if dispatch is not None:
                    wait = max(wait, dispatch.wait_time(now))
                candidates.append(now + timedelta(seconds=wait))
            more = dispatch is None or len(self._prepared) <= wished  # worth preparing more
            if free > len(self._prepared) and more:
                batch = min(self.options.launch_batch, free - len(self._prepared))
                needed = batch + len(self._prepared) - self._lookahead()
                wait = bucket.wait_time(seconds, min(max(needed, 0), bucket.burst))
                if self._ready:
                    opens = now + timedelta(seconds=wait)
                    if self._numbers_free_at is not None:
                        opens = max(opens, self._numbers_free_at)
                    candidates.append(opens)
                elif self._next_due is not None:
                    opens = max(
                        self._next_due,
                        now + timedelta(seconds=wait),
                        self._claimed_at + self.options.claim_interval,
                    )
                    candidates.append(opens)
        return min(candidates) if candidates else None

    # --- persistence --------------------------------------------------------------------

    async def _flush(self, now: datetime, *, force: bool = False) -> None:
        """Append events, write changed attempt states, and close settled attempts with their
        contacts' next step: one transaction of executemany statements."""
        if not self._events and not self._dirty:
            return
        since = now - self._flushed_at
        if not (
            force
            or since >= self.options.flush_every
            or (self._settling and since >= self.options.settle_flush)
        ):
            return
        self._flushed_at = now
        self._settling = False
        events, self._events = self._events, []
        dirty, self._dirty = self._dirty, set()
        settled: list[_InFlight] = []
        followups: list[dict[str, Any]] = []
        progress: list[dict[str, Any]] = []
        final: list[dict[str, Any]] = []
        after: list[dict[str, Any]] = []
        for call_id in dirty:
            flight = self._flights.get(call_id)
            if flight is None:
                continue
            call = flight.call
            stored = (call.state, call.originated_at, call.answered_at, call.ended_at)
            row: dict[str, Any] = {
                "b_id": flight.attempt_id,
                "b_state": call.state,
                "b_originated_at": call.originated_at,
                "b_answered_at": call.answered_at,
                "b_ended_at": call.ended_at,
            }
            if call.settled:
                outcome = call.outcome or AttemptOutcome.FAILED
                row.update(
                    b_outcome=outcome,
                    b_hangup_cause=call.cause,
                    b_lease_owner=None,
                    b_lease_expires_at=None,
                )
                final.append(row)
                after.append(self._contact_after(flight, outcome, call.ended_at or now))
                settled.append(flight)
                if outcome is AttemptOutcome.ABANDONED and flight.phone:
                    followups.append(self._followup(flight, now))
            elif stored != flight.stored:
                progress.append(row)
            flight.stored_state, flight.stored = call.state, stored
        async with self.sessions() as session, session.begin():
            if events:
                await session.execute(
                    insert(_EVENTS),
                    [
                        {
                            "attempt_id": attempt_id,
                            "at": event.at,
                            "kind": event.signal.value,
                            "payload": _payload(event),
                        }
                        for attempt_id, event in events
                    ],
                )
            if progress:
                await session.execute(_ATTEMPT_PROGRESS, progress)
            if final:
                await session.execute(_ATTEMPT_FINAL, final)
            if after:
                await session.execute(_CONTACT_AFTER, after)
            if followups:
                await session.execute(insert(_SMS), followups)
        self.stats.followups_queued += len(followups)
        for row in after:
            when = row["b_next_attempt_at"]
            if row["b_status"] is ContactStatus.PENDING and when is not None:
                self._next_due = when if self._next_due is None else min(self._next_due, when)
        if settled:
            await self.caller_ids.persist(self.sessions)
        forget = getattr(self.backend, "forget", None)
        for flight in settled:
            call = flight.call
            del self._flights[call.call_id]
            self.limiter.release()
            if forget is not None:
                forget(call.call_id)
            outcome = call.outcome or AttemptOutcome.FAILED
            self.stats.settled += 1
            self.stats.outcomes[outcome.value] += 1
            talk = 0.0
            if call.answered_at is not None and call.ended_at is not None:
                self.stats.answered += 1
                talk = (call.ended_at - call.answered_at).total_seconds()
            self.caller_ids.result(flight.caller_number_id, outcome, talk, now, call.cause)
            if self.on_settled is not None:
                self.on_settled(call)
            if outcome in _LOGGED_OUTCOMES:
                log.info(
                    "dialer.call_failed",
                    attempt=flight.attempt_id,
                    phone=mask_phone(flight.phone),
                    outcome=outcome.value,
                    cause=call.cause,
                )

    def _contact_after(
        self, flight: _InFlight, outcome: AttemptOutcome, ended_at: datetime
    ) -> dict[str, Any]:
        counts = flight.outcome_counts
        counts[outcome] += 1
        attempts = flight.attempts_before + 1
        decision = self.retry.after(
            outcome, ended_at, attempts=attempts, same_outcome=counts[outcome]
        )
        status, when = decision.status, decision.not_before
        if outcome is AttemptOutcome.INVALID_NUMBER and flight.other_phones > 0:
            status, when = ContactStatus.PENDING, ended_at  # try the next phone of the debtor
        return {
            "b_id": flight.contact_id,
            "b_status": status,
            "b_next_attempt_at": when,
            "b_attempts": attempts,
            "b_last_outcome": outcome,
            "b_lease_owner": None,
            "b_lease_expires_at": None,
        }

    async def _outcome_counts(
        self, session: AsyncSession, contact_ids: list[int]
    ) -> tuple[dict[int, Counter[AttemptOutcome]], set[int]]:
        """Each contact's outcomes so far, and the phones that proved invalid in this campaign
        (never dialled again by it): one grouped query."""
        counts: dict[int, Counter[AttemptOutcome]] = defaultdict(Counter)
        invalid: set[int] = set()
        if not contact_ids:
            return counts, invalid
        a = _ATTEMPTS.c
        rows = await session.execute(
            select(a.contact_id, a.phone_id, a.outcome, func.count())
            .where(a.contact_id.in_(contact_ids), a.outcome.is_not(None))
            .group_by(a.contact_id, a.phone_id, a.outcome)
        )
        for contact_id, phone_id, outcome, count in rows:
            if contact_id is None or outcome is None:
                continue
            counts[contact_id][outcome] += count
            if outcome is AttemptOutcome.INVALID_NUMBER:
                invalid.add(phone_id)
        return counts, invalid

    # --- claim and launch ---------------------------------------------------------------

    async def _prepare(self, now: datetime, count: int) -> None:
        """Decide up to `count` leased contacts (claiming more first when few are ready) and
        write their decisions and attempts in one transaction: committed before any of these
        calls leaves. The calls then wait in `_prepared` for their CPS tokens."""
        if len(self._ready) < count:
            await self._claim(now, max(count, self.options.claim_ahead) - len(self._ready))
        batch = [self._ready.popleft() for _ in range(min(count, len(self._ready)))]
        if not batch:
            return
        decisions: list[dict[str, Any]] = []
        chosen: list[_Chosen] = []
        parked: list[dict[str, Any]] = []
        for index, ready in enumerate(batch):
            if self._numbers_free_at is not None and now < self._numbers_free_at:
                self._ready.extendleft(reversed(batch[index:]))  # decided once numbers free
                break
            picked = self._decide_one(ready, now, decisions, parked)
            if picked is not None:
                chosen.append(picked)
        async with self.sessions() as session, session.begin():
            if decisions:
                decision_ids = await _inserted_ids(session, _DECISIONS, decisions)
                for picked in chosen:
                    picked.attempt["decision_id"] = decision_ids[picked.decision]
            if chosen:
                attempts = [picked.attempt for picked in chosen]
                for picked, attempt_id in zip(
                    chosen, await _inserted_ids(session, _ATTEMPTS, attempts), strict=True
                ):
                    picked.attempt["id"] = attempt_id
            if parked:
                await session.execute(_CONTACT_PARK, parked)
        for picked in chosen:
            attempt = picked.attempt
            call_id: str = attempt["backend_call_id"]
            flight = _InFlight(
                Call(call_id),
                attempt["id"],
                picked.ready.contact_id,
                attempt["phone_id"],
                picked.phone,
                attempt["caller_id_number_id"],
                picked.ready.attempts,
                picked.ready.outcome_counts,
                picked.other_phones,
                account_id=attempt["account_id"],
                caller_e164=attempt["caller_id_e164"] or "",
            )
            agent_route = self.dispatch is not None and self.dispatch.mode in _AGENT_ROUTED
            request = OriginateRequest(
                call_id=call_id,
                to=picked.phone,
                caller_id=attempt["caller_id_e164"] or "",
                caller_name=self.options.caller_name,
                timeout_seconds=self.options.ring_timeout_seconds,
                detect_machine=self.options.detect_machine,
                variables={"RECAUDO_ATTEMPT": str(attempt["id"])},
                route=CallRoute.AGENT if agent_route else CallRoute.IVR,
            )
            self._prepared.append(_Prepared(flight, request, picked.reason_kind))

    async def _dial(self, now: datetime) -> None:
        """Originate prepared calls while the limiter has a line and a token for each."""
        prepared = self._prepared
        seconds = self._seconds(now)
        dispatch = self.dispatch
        allowance = len(prepared)
        if dispatch is not None:
            allowance = dispatch.launches(now, channels=len(self._flights), limit=len(prepared))
        while prepared and allowance > 0 and self.limiter.acquire(seconds):
            allowance -= 1
            ready = prepared.popleft()
            flight, request = ready.flight, ready.request
            self._flights[request.call_id] = flight
            if dispatch is not None:
                dispatch.launched(request.call_id, now)
            self.stats.caller_ids[ready.reason_kind] += 1
            try:
                await self.backend.originate(request)
            except OriginateOutcomeUnknown as exc:
                # It may be ringing: keep it in flight and wait for its events (never re-dial).
                self.stats.originate_errors += 1
                log.error("dialer.originate_unknown", call_id=request.call_id, error=str(exc))
                continue
            except BackendError as exc:
                self.stats.originate_errors += 1
                log.error("dialer.originate_failed", call_id=request.call_id, error=str(exc))
                self._on_event(
                    CallEvent(request.call_id, Signal.REJECTED, now, detail=str(exc)[:200])
                )
                continue
            self.stats.originated += 1

    async def _claim(self, now: datetime, count: int) -> None:
        """Lease up to `count` due contacts and load what deciding them needs (one transaction:
        one UPDATE … RETURNING, then the contacts, their histories and their outcome counts).

        A contact whose lease expired (its node died before dialling it) is due again.
        """
        lease_until = now + self.options.lease
        self._claimed_at = now
        c = _CONTACTS.c
        async with self.sessions() as session, session.begin():
            due = (
                select(c.id)
                .where(
                    c.campaign_id == self.campaign_id,
                    or_(
                        (c.status == ContactStatus.PENDING) & (c.next_attempt_at <= now),
                        (c.status == ContactStatus.IN_PROGRESS) & (c.lease_expires_at < now),
                    ),
                )
                .order_by(c.next_attempt_at, c.id)
                .limit(count)
            )
            if session.bind is not None and session.bind.dialect.name == "postgresql":
                due = due.with_for_update(skip_locked=True)
            leased = (
                await session.execute(
                    update(_CONTACTS)
                    .where(c.id.in_(due.scalar_subquery()))
                    .values(
                        status=ContactStatus.IN_PROGRESS,
                        lease_owner=self.options.node,
                        lease_expires_at=lease_until,
                    )
                    .returning(c.id, c.account_id, c.attempts, c.next_attempt_at)
                )
            ).all()
            contacts = sorted(leased, key=lambda row: (row[3], row[0]))
            self._exhausted = len(contacts) < count
            if self._exhausted:
                self._next_due = await session.scalar(
                    select(func.min(c.next_attempt_at)).where(
                        c.campaign_id == self.campaign_id,
                        c.status == ContactStatus.PENDING,
                        c.next_attempt_at > now,
                    )
                )
            if not contacts:
                return
            self.stats.claimed += len(contacts)
            phones: dict[int, list[_Candidate]] = defaultdict(list)
            for found in await contact_rows(session, [row[1] for row in contacts]):
                phones[found.account_id].append(
                    _Candidate(
                        found.contact,
                        found.debtor_id,
                        found.account_id,
                        found.phone_id,
                        found.contact.phone or "",
                        found.role,
                    )
                )
            debtor_ids = sorted({c.debtor_id for found in phones.values() for c in found})
            trails = await histories(
                session, now - timedelta(days=self.options.history_days), debtor_ids
            )
            # Only contacts with outcomes so far can have counts or invalid phones.
            counts, invalid = await self._outcome_counts(
                session, [row[0] for row in contacts if row[2]]
            )
        for contact_id, account_id, attempts, _ in contacts:
            candidates = sorted(
                (c for c in phones.get(account_id, []) if c.phone_id not in invalid),
                key=lambda c: (_ROLE_ORDER.get(c.role, 2), c.phone_id),
            )
            self._ready.append(
                _Ready(
                    contact_id,
                    attempts,
                    counts.get(contact_id, Counter()),
                    tuple(candidates),
                    {c.debtor_id: trails.get(c.debtor_id, ()) for c in candidates},
                )
            )

    def _packs_for(self, contact: Contact) -> tuple[Pack, ...]:
        """The packs that apply to a contact's place (the creditor and collector are fixed)."""
        key = (contact.country, contact.subdivision)
        packs = self._packs.get(key)
        if packs is None:
            packs = self.policies.for_contact(
                contact.country,
                contact.subdivision,
                self.options.creditor_sector,
                self.options.collector_role,
            )
            self._packs[key] = packs
        return packs

    def _decide_one(
        self,
        ready: _Ready,
        now: datetime,
        decisions: list[dict[str, Any]],
        parked: list[dict[str, Any]],
    ) -> _Chosen | None:
        """Pick the first phone compliance allows now; otherwise park the contact until the
        earliest instant one of its phones opens (or block it when none ever does). The
        decision acted on goes to `decisions`; a parked contact's row to `parked`."""
        campaign = self._campaign
        assert campaign is not None, "start() the dialer first"
        channel = self.options.channel.value
        margin = timedelta(minutes=campaign.end_margin_minutes)
        earliest: tuple[datetime, Decision, _Candidate] | None = None
        last_denial: tuple[Decision, _Candidate] | None = None
        number_free_at: datetime | None = None
        no_number: CallerIdError | None = None
        for candidate in ready.candidates:
            try:
                choice = self.caller_ids.choose(
                    candidate.e164, candidate.contact.country, candidate.contact.zones, now
                )
            except CallerIdError as exc:
                # No number may be presented now: the contact waits, it is not blocked.
                retry = getattr(exc, "retry_at", None) or now + timedelta(minutes=1)
                number_free_at = retry if number_free_at is None else min(number_free_at, retry)
                self.stats.caller_id_waits += 1
                no_number = exc
                continue
            subject = replace(candidate.contact, caller_id=choice.e164)
            history = ready.histories.get(candidate.debtor_id, ())
            decision = decide(
                subject, channel, now, history, self._packs_for(subject), end_margin=margin
            )
            if decision.allowed:
                decisions.append(self._decision_row(decision, candidate))
                attempt = {
                    "campaign_id": self.campaign_id,
                    "contact_id": ready.contact_id,
                    "account_id": candidate.account_id,
                    "phone_id": candidate.phone_id,
                    "channel": self.options.channel,
                    "decision_id": None,
                    "caller_id_number_id": choice.number_id,
                    "caller_id_e164": choice.e164,
                    "caller_id_reason": choice.reason[:120],
                    "backend": self.backend.name,
                    "backend_call_id": f"{self.options.node}-{uuid.uuid4().hex[:20]}",
                    "state": CallState.QUEUED,
                    "lease_owner": self.options.node,
                    "lease_expires_at": now + self.options.lease,
                    "created_at": now,
                }
                kind = choice.reason.split(":", 1)[0]
                return _Chosen(
                    ready,
                    attempt,
                    len(decisions) - 1,
                    candidate.e164,
                    len(ready.candidates) - 1,
                    kind,
                )
            last_denial = (decision, candidate)
            if decision.next_allowed_at is not None and (
                earliest is None or decision.next_allowed_at < earliest[0]
            ):
                earliest = (decision.next_allowed_at, decision, candidate)
        acted = (earliest[1], earliest[2]) if earliest is not None else last_denial
        if acted is not None:
            decisions.append(self._decision_row(*acted))
        row: dict[str, Any] = {
            "b_id": ready.contact_id,
            "b_lease_owner": None,
            "b_lease_expires_at": None,
        }
        if number_free_at is not None and (earliest is None or number_free_at < earliest[0]):
            row.update(b_status=ContactStatus.PENDING, b_next_attempt_at=number_free_at)
            when = number_free_at
            if now - self._no_number_logged_at >= _NO_NUMBER_LOG_EVERY:
                # At most every few minutes, not once per contact: the pool itself is the news.
                self._no_number_logged_at = now
                log.warning(
                    "dialer.no_caller_id",
                    contact=ready.contact_id,
                    until=number_free_at.isoformat(),
                    waits_so_far=self.stats.caller_id_waits,
                    error=str(no_number),
                )
            self._numbers_free_at = number_free_at
            self._next_due = when if self._next_due is None else min(self._next_due, when)
        elif earliest is not None:
            row.update(b_status=ContactStatus.PENDING, b_next_attempt_at=earliest[0])
            self.stats.denied += 1
            when = earliest[0]
            self._next_due = when if self._next_due is None else min(self._next_due, when)
        else:
            row.update(b_status=ContactStatus.BLOCKED, b_next_attempt_at=None)
            self.stats.blocked += 1
        parked.append(row)
        return None

    def _decision_row(self, decision: Decision, candidate: _Candidate) -> dict[str, Any]:
        return decision_values(
            decision,
            debtor_id=candidate.debtor_id,
            account_id=candidate.account_id,
            phone_id=candidate.phone_id,
            campaign_id=self.campaign_id,
        )


async def _inserted_ids(
    session: AsyncSession, table: Table, rows: list[dict[str, Any]]
) -> list[int]:
    """Insert rows in one statement; their new ids in the rows' order.

    SQLite would insert row by row to keep RETURNING in order; it needs not: while this
    transaction holds the write lock, a rowid table gives one INSERT's rows ascending ids in the
    order of its VALUES, so the ids sorted are the ids in order."""
    bind = session.bind
    if bind is not None and bind.dialect.name == "sqlite":
        result = await session.execute(insert(table).returning(table.c.id), rows)
        return sorted(result.scalars())
    ordered = insert(table).returning(table.c.id, sort_by_parameter_order=True)
    return list((await session.execute(ordered, rows)).scalars())


def _payload(event: CallEvent) -> dict[str, Any]:
    payload: dict[str, Any] = {"source": event.source}
    if event.cause is not None:
        payload["cause"] = event.cause
    if event.reason is not None:
        payload["reason"] = event.reason
    if event.detail is not None:
        payload["detail"] = event.detail
    if event.outcome is not None:
        payload["outcome"] = event.outcome.value
    return payload
