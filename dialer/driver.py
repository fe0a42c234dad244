"""Drivers that call `Dialer.step()`: real time (production) and virtual time (rehearsals).

The dialer's work is the same either way; only how time passes differs. The virtual driver
jumps the clock to the next thing that can happen (a simulated call event, a call to settle, a
token in the CPS bucket, a contact falling due), so a working day takes seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import datetime, timedelta

from dialer.clock import VirtualClock
from dialer.runner import Dialer
from dialer.sim.backend import SimBackend

__all__ = ["run_realtime", "run_virtual"]


async def run_virtual(
    dialer: Dialer,
    sim: SimBackend,
    clock: VirtualClock,
    until: datetime,
    *,
    on_progress: Callable[[Dialer], None] | None = None,
    progress_every: timedelta = timedelta(minutes=5),
) -> None:
    """Run the campaign on the simulator until `until` (virtual) or until nothing is left."""
    next_report = clock.now()
    while clock.now() < until:
        sim.pump(clock.now())
        await dialer.step()
        if on_progress is not None and clock.now() >= next_report:
            on_progress(dialer)
            next_report = clock.now() + progress_every
        candidates = [t for t in (sim.next_due(), dialer.next_wakeup()) if t is not None]
        if not candidates:
            if dialer.finished or not dialer.in_flight:
                break
            candidates = [clock.now() + timedelta(seconds=1)]
        upcoming = min(candidates)
        if upcoming <= clock.now():
            upcoming = clock.now() + timedelta(milliseconds=10)
        clock.advance_to(min(upcoming, until))
    sim.pump(clock.now())
    await dialer.step()
    if on_progress is not None:
        on_progress(dialer)


async def run_realtime(
    dialer: Dialer, stop: asyncio.Event, *, tick: float = 0.5, sim: SimBackend | None = None
) -> None:
    """Run until `stop` is set: step on every backend event, and at least every `tick` seconds.

    With `sim` (the in-process simulator on a real clock) its due events are delivered first on
    every turn, and the wait ends when its next event is due.
    """
    while not stop.is_set():
        if sim is not None:
            sim.pump(dialer.clock.now())
        await dialer.step()
        upcoming = [dialer.next_wakeup(), sim.next_due() if sim is not None else None]
        timeout = tick
        for wake in upcoming:
            if wake is not None:
                timeout = max(0.0, min(timeout, (wake - dialer.clock.now()).total_seconds()))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(dialer.wakeup.wait(), timeout)
