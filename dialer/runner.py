"""The dialer: due contacts in, calls out, outcomes recorded. One `step()` for every driver.

Durable and exactly-once: a contact is claimed with a lease, the compliance decision and the
attempt are committed *before* the originate leaves the process, every backend event is
appended, and the outcome (with the contact's next step) is committed before that contact can
be claimed again — it stays `in_progress` under its lease until then, so it is never rung on two
lines at once. The same `step()` runs under the real-time driver (production) and the virtual
driver (rehearsal, demo, benchmarks).
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter, defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Protocol

import structlog
from sqlalchemy import func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from campaigns.compliance import Contact, Decision, Event, PolicySet, decide
from campaigns.compliance.store import contact_query, histories, record_decision, stored_contact
from campaigns.enums import AttemptOutcome, CallState, Channel, ContactStatus, PhoneRole
from campaigns.models import Account, Attempt, Campaign, CampaignContact
from campaigns.models import CallEvent as CallEventRow
from config.logging import mask_phone
from dialer.backends.base import Backend, OriginateRequest
from dialer.callerid import CallerIdPicker, Target
from dialer.callerid_store import flush as flush_numbers
from dialer.calls import Call, CallEvent, Signal
from dialer.clock import Clock
from dialer.errors import BackendError, CallerIdError, OriginateOutcomeUnknown
from dialer.retry import RetryPolicy
from dialer.throttle import CallLimiter, TokenBucket

__all__ = [
    "CallerIdChoice",
    "CallerIdSource",
    "Dialer",
    "DialerOptions",
    "FixedCallerId",
    "PooledCallerIds",
]

log = structlog.get_logger(__name__)
_ROLE_ORDER = {PhoneRole.DEBTOR: 0, PhoneRole.AVAL: 1, PhoneRole.OBLIGADO_SOLIDARIO: 1}


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
    ring_timeout_seconds: float = 30.0
    detect_machine: bool = True
    history_days: int = 35
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
    attempt: Attempt
    phone: str
    other_phones: int
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
    ) -> None:
        self.sessions = sessions
        self.backend = backend
        self.campaign_id = campaign_id
        self.policies = policies
        self.clock = clock
        self.caller_ids = caller_ids
        self.options = options or DialerOptions()
        self.retry = retry or RetryPolicy()
        self.limiter = CallLimiter(
            self.options.max_concurrent, TokenBucket(self.options.cps, self.options.burst)
        )
        self.stats = DialerStats()
        self.on_settled = on_settled
        self._flights: dict[str, _InFlight] = {}
        self._ready: deque[_Ready] = deque()
        self._events: list[tuple[int, CallEvent]] = []
        self._dirty: set[str] = set()
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
        log.warning("dialer.recovered", open_attempts=len(rows), live=len(live))
        return len(rows)

    async def _flight_for(self, attempt: Attempt, call_id: str) -> _InFlight:
        call = Call(call_id, state=attempt.state)
        call.answered_at = attempt.answered_at
        async with self.sessions() as session:
            contact = await session.get(CampaignContact, attempt.contact_id)
            counts = await self._outcome_counts(session, [attempt.contact_id or 0])
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
        )

    async def close(self) -> None:
        await self._flush(self.clock.now(), force=True)
        await self.backend.close()

    # --- events (called by the backend, synchronously) -----------------------------------

    def _on_event(self, event: CallEvent) -> None:
        flight = self._flights.get(event.call_id)
        if flight is None:
            self.stats.orphan_events += 1
            return
        self.stats.events += 1
        flight.call.feed(event)
        self._events.append((flight.attempt_id, event))
        self._dirty.add(event.call_id)
        self.wakeup.set()

    # --- the step -----------------------------------------------------------------------

    @property
    def in_flight(self) -> int:
        return len(self._flights)

    @property
    def finished(self) -> bool:
        """Nothing in flight and nothing due any more (a campaign day can end)."""
        return self._exhausted and not self._flights and not self._ready and self._next_due is None

    def _seconds(self, now: datetime) -> float:
        return (now - self._epoch).total_seconds()

    async def step(self) -> None:
        """Settle, record, then launch as many calls as the limits allow right now."""
        self.wakeup.clear()
        now = self.clock.now()
        for call_id, flight in self._flights.items():
            due = flight.call.settle_due(self.options.settle_grace)
            if due is not None and due <= now:
                flight.call.settle(now)
                self._dirty.add(call_id)
        await self._flush(now)
        room = self.limiter.room(self._seconds(now))
        if room > 0 and (
            self._ready
            or not self._exhausted
            or (
                self._next_due is not None
                and self._next_due <= now
                and now - self._claimed_at >= self.options.claim_interval
            )
        ):
            await self._launch(now, room)

    def _is_settled(self, call_id: str) -> bool:
        flight = self._flights.get(call_id)
        return flight is not None and flight.call.settled

    def next_wakeup(self) -> datetime | None:
        """The next instant `step()` has work to do without any new event."""
        now = self.clock.now()
        candidates: list[datetime] = []
        for flight in self._flights.values():
            due = flight.call.settle_due(self.options.settle_grace)
            if due is not None:
                candidates.append(due)
        if self._events or self._dirty:
            settling = any(self._is_settled(call_id) for call_id in self._dirty)
            pause = self.options.settle_flush if settling else self.options.flush_every
            candidates.append(self._flushed_at + pause)
        if self.limiter.in_flight < self.limiter.max_concurrent:
            wait = self.limiter.bucket.wait_time(self._seconds(now))
            if self._ready:
                candidates.append(now + timedelta(seconds=wait))
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
        if not self._events and not self._dirty:
            return
        settling = any(self._is_settled(call_id) for call_id in self._dirty)
        since = now - self._flushed_at
        if not (
            force
            or since >= self.options.flush_every
            or (settling and since >= self.options.settle_flush)
        ):
            return
        self._flushed_at = now
        events, self._events = self._events, []
        dirty, self._dirty = self._dirty, set()
        settled: list[_InFlight] = []
        attempt_rows: list[dict[str, Any]] = []
        contact_rows: list[dict[str, Any]] = []
        for call_id in dirty:
            flight = self._flights.get(call_id)
            if flight is None:
                continue
            call = flight.call
            row: dict[str, Any] = {"id": flight.attempt_id, "state": call.state}
            row["originated_at"] = call.originated_at
            row["answered_at"] = call.answered_at
            row["ended_at"] = call.ended_at
            if call.settled:
                outcome = call.outcome or AttemptOutcome.FAILED
                row.update(
                    outcome=outcome,
                    hangup_cause=call.cause,
                    lease_owner=None,
                    lease_expires_at=None,
                )
                contact_rows.append(self._contact_after(flight, outcome, call.ended_at or now))
                settled.append(flight)
            elif call.state is flight.stored_state and not events:
                continue
            flight.stored_state = call.state
            attempt_rows.append(row)
        async with self.sessions() as session, session.begin():
            if events:
                await session.execute(
                    insert(CallEventRow),
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
            if attempt_rows:
                await session.execute(update(Attempt), attempt_rows)
            if contact_rows:
                await session.execute(update(CampaignContact), contact_rows)
        for row in contact_rows:
            when = row["next_attempt_at"]
            if row["status"] is ContactStatus.PENDING and when is not None:
                self._next_due = when if self._next_due is None else min(self._next_due, when)
        if settled:
            await self.caller_ids.persist(self.sessions)
        for flight in settled:
            call = flight.call
            del self._flights[call.call_id]
            self.limiter.release()
            forget = getattr(self.backend, "forget", None)
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
            if call.state is CallState.FAILED or call.outcome is AttemptOutcome.INVALID_NUMBER:
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
            "id": flight.contact_id,
            "status": status,
            "next_attempt_at": when,
            "attempts": attempts,
            "last_outcome": outcome,
            "lease_owner": None,
            "lease_expires_at": None,
        }

    async def _outcome_counts(
        self, session: AsyncSession, contact_ids: list[int]
    ) -> dict[int, Counter[AttemptOutcome]]:
        rows = await session.execute(
            select(Attempt.contact_id, Attempt.outcome, func.count())
            .where(Attempt.contact_id.in_(contact_ids), Attempt.outcome.is_not(None))
            .group_by(Attempt.contact_id, Attempt.outcome)
        )
        counts: dict[int, Counter[AttemptOutcome]] = defaultdict(Counter)
        for contact_id, outcome, count in rows:
            if contact_id is not None and outcome is not None:
                counts[contact_id][outcome] += count
        return counts

    async def _invalid_phones(self, session: AsyncSession, contact_ids: list[int]) -> set[int]:
        """Phones that proved invalid in this campaign: never dialled again by it."""
        rows = await session.execute(
            select(Attempt.phone_id).where(
                Attempt.contact_id.in_(contact_ids),
                Attempt.outcome == AttemptOutcome.INVALID_NUMBER,
            )
        )
        return {phone_id for (phone_id,) in rows}

    # --- claim and launch ---------------------------------------------------------------

    async def _launch(self, now: datetime, room: int) -> None:
        """Decide and dial up to `room` leased contacts; claim more first when few are ready."""
        if len(self._ready) < room:
            await self._claim(now, max(room, self.options.claim_ahead) - len(self._ready))
        batch = [self._ready.popleft() for _ in range(min(room, len(self._ready)))]
        if not batch:
            return
        requests: list[OriginateRequest] = []
        async with self.sessions() as session, session.begin():
            chosen: list[tuple[_Ready, _Chosen]] = []
            parked: list[dict[str, Any]] = []
            for ready in batch:
                picked = self._decide_one(session, ready, now, parked)
                if picked is not None:
                    chosen.append((ready, picked))
            if parked:
                await session.execute(update(CampaignContact), parked)
            await session.flush()  # decisions and attempts are stored before any call leaves
        for ready, picked in chosen:
            attempt = picked.attempt
            call_id = attempt.backend_call_id or ""
            self._flights[call_id] = _InFlight(
                Call(call_id),
                attempt.id,
                ready.contact_id,
                attempt.phone_id,
                picked.phone,
                attempt.caller_id_number_id,
                ready.attempts,
                ready.outcome_counts,
                picked.other_phones,
            )
            self.stats.caller_ids[picked.reason_kind] += 1
            requests.append(
                OriginateRequest(
                    call_id=call_id,
                    to=picked.phone,
                    caller_id=attempt.caller_id_e164 or "",
                    caller_name=self.options.caller_name,
                    timeout_seconds=self.options.ring_timeout_seconds,
                    detect_machine=self.options.detect_machine,
                    variables={"RECAUDO_ATTEMPT": str(attempt.id)},
                )
            )
        for request in requests:
            self.limiter.acquire(self._seconds(now))
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
        """Lease up to `count` due contacts and load what deciding them needs (one transaction).

        A contact whose lease expired (its node died before dialling it) is due again.
        """
        lease_until = now + self.options.lease
        self._claimed_at = now
        async with self.sessions() as session, session.begin():
            due = (
                select(CampaignContact)
                .where(
                    CampaignContact.campaign_id == self.campaign_id,
                    or_(
                        (CampaignContact.status == ContactStatus.PENDING)
                        & (CampaignContact.next_attempt_at <= now),
                        (CampaignContact.status == ContactStatus.IN_PROGRESS)
                        & (CampaignContact.lease_expires_at < now),
                    ),
                )
                .order_by(CampaignContact.next_attempt_at, CampaignContact.id)
                .limit(count)
            )
            if session.bind is not None and session.bind.dialect.name == "postgresql":
                due = due.with_for_update(skip_locked=True)
            contacts = list((await session.execute(due)).scalars())
            self._exhausted = len(contacts) < count
            if self._exhausted:
                self._next_due = await session.scalar(
                    select(func.min(CampaignContact.next_attempt_at)).where(
                        CampaignContact.campaign_id == self.campaign_id,
                        CampaignContact.status == ContactStatus.PENDING,
                        CampaignContact.next_attempt_at > now,
                    )
                )
            if not contacts:
                return
            self.stats.claimed += len(contacts)
            for contact in contacts:
                contact.status = ContactStatus.IN_PROGRESS
                contact.lease_owner = self.options.node
                contact.lease_expires_at = lease_until
            ids = [c.id for c in contacts]
            rows = (
                await session.execute(
                    contact_query().where(Account.id.in_([c.account_id for c in contacts]))
                )
            ).all()
            phones: dict[int, list[_Candidate]] = defaultdict(list)
            for phone, debtor, account, address in rows:
                stored = stored_contact(phone, debtor, account, address)
                phones[account.id].append(
                    _Candidate(
                        stored.contact, debtor.id, account.id, phone.id, phone.e164, phone.role
                    )
                )
            debtor_ids = sorted({c.debtor_id for found in phones.values() for c in found})
            trails = await histories(
                session, now - timedelta(days=self.options.history_days), debtor_ids
            )
            counts = await self._outcome_counts(session, ids)
            invalid = await self._invalid_phones(session, ids)
        for contact in contacts:
            candidates = sorted(
                (c for c in phones.get(contact.account_id, []) if c.phone_id not in invalid),
                key=lambda c: (_ROLE_ORDER.get(c.role, 2), c.phone_id),
            )
            self._ready.append(
                _Ready(
                    contact.id,
                    contact.attempts,
                    counts.get(contact.id, Counter()),
                    tuple(candidates),
                    {c.debtor_id: trails.get(c.debtor_id, ()) for c in candidates},
                )
            )

    def _decide_one(
        self, session: AsyncSession, ready: _Ready, now: datetime, parked: list[dict[str, Any]]
    ) -> _Chosen | None:
        """Pick the first phone compliance allows now; otherwise park the contact until the
        earliest instant one of its phones opens (or block it when none ever does)."""
        campaign = self._campaign
        assert campaign is not None, "start() the dialer first"
        channel = self.options.channel.value
        margin = timedelta(minutes=campaign.end_margin_minutes)
        earliest: tuple[datetime, Decision, _Candidate] | None = None
        last_denial: tuple[Decision, _Candidate] | None = None
        number_free_at: datetime | None = None
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
                log.warning("dialer.no_caller_id", contact=ready.contact_id, error=str(exc))
                continue
            subject = replace(candidate.contact, caller_id=choice.e164)
            packs = self.policies.for_contact(
                subject.country,
                subject.subdivision,
                self.options.creditor_sector,
                self.options.collector_role,
            )
            history = ready.histories.get(candidate.debtor_id, ())
            decision = decide(subject, channel, now, history, packs, end_margin=margin)
            if decision.allowed:
                logged = record_decision(
                    session,
                    decision,
                    debtor_id=candidate.debtor_id,
                    account_id=candidate.account_id,
                    phone_id=candidate.phone_id,
                    campaign_id=self.campaign_id,
                )
                attempt = Attempt(
                    campaign_id=self.campaign_id,
                    contact_id=ready.contact_id,
                    account_id=candidate.account_id,
                    phone_id=candidate.phone_id,
                    channel=self.options.channel,
                    decision=logged,
                    caller_id_number_id=choice.number_id,
                    caller_id_e164=choice.e164,
                    caller_id_reason=choice.reason[:120],
                    backend=self.backend.name,
                    backend_call_id=f"{self.options.node}-{uuid.uuid4().hex[:20]}",
                    state=CallState.QUEUED,
                    lease_owner=self.options.node,
                    lease_expires_at=now + self.options.lease,
                    created_at=now,
                )
                session.add(attempt)
                kind = choice.reason.split(":", 1)[0]
                return _Chosen(attempt, candidate.e164, len(ready.candidates) - 1, kind)
            last_denial = (decision, candidate)
            if decision.next_allowed_at is not None and (
                earliest is None or decision.next_allowed_at < earliest[0]
            ):
                earliest = (decision.next_allowed_at, decision, candidate)
        acted = (earliest[1], earliest[2]) if earliest is not None else last_denial
        if acted is not None:
            decision, candidate = acted
            record_decision(
                session,
                decision,
                debtor_id=candidate.debtor_id,
                account_id=candidate.account_id,
                phone_id=candidate.phone_id,
                campaign_id=self.campaign_id,
            )
        row: dict[str, Any] = {
            "id": ready.contact_id,
            "lease_owner": None,
            "lease_expires_at": None,
        }
        if number_free_at is not None and (earliest is None or number_free_at < earliest[0]):
            row.update(status=ContactStatus.PENDING, next_attempt_at=number_free_at)
            when = number_free_at
            self._next_due = when if self._next_due is None else min(self._next_due, when)
        elif earliest is not None:
            row.update(status=ContactStatus.PENDING, next_attempt_at=earliest[0])
            self.stats.denied += 1
            when = earliest[0]
            self._next_due = when if self._next_due is None else min(self._next_due, when)
        else:
            row.update(status=ContactStatus.BLOCKED, next_attempt_at=None)
            self.stats.blocked += 1
        parked.append(row)
        return None


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
