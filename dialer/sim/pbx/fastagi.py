"""The simulator as a FastAGI client: one `AgiRun` per `AGI(agi://…)` a call executes.

It connects to the dialer's FastAGI server, sends the `agi_*` header and answers each command as
`agi.plan_command` says, waiting the command's (scaled) duration and waking early when the call is
interrupted: then the running command returns `200 result=-1 …` and `HANGUP` follows ~40 ms later,
and from there on the session is dead (README fact 18) until the server closes the socket.
"""

from __future__ import annotations

import asyncio
import contextlib
from functools import partial
from typing import TYPE_CHECKING, Any

from dialer.sim.pbx.agi import Plan, environment, interrupted_reply, parse_command, plan_command

if TYPE_CHECKING:
    from dialer.sim.pbx.calls import Call

__all__ = ["AgiRun"]

_HANGUP_LINE_DELAY = 0.04  # Asterisk writes the unsolicited HANGUP ~40 ms after the reply


class AgiRun:
    """One FastAGI session of a call; the call keeps the state others act on (dead, detached)."""

    def __init__(self, call: Call) -> None:
        self.call = call

    async def run(self, args: tuple[str, ...]) -> None:
        """Connect, send the header, answer commands until the server closes the socket."""
        call = self.call
        one, pbx = call.legs.one, call.pbx
        url = pbx.agi_url
        try:
            if url is None:
                raise ConnectionRefusedError("no FastAGI server configured")
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(url.host, url.port), max(0.5, pbx.scaled(5.0))
            )
        except (OSError, TimeoutError):
            call.agi_status = "FAILURE"
            call.emit(one.varset("AGISTATUS", "FAILURE"))
            return
        writer.write(
            environment(
                url=url,
                channel=one.name,
                agi_type=one.tech,
                uniqueid=one.uniqueid,
                caller_num=one.caller_num,
                caller_name=one.caller_name,
                context=one.context,
                exten=one.exten,
                priority=one.priority,
                thread_id=pbx.ids.thread_id(),
                args=args,
            )
        )
        try:
            await self._serve(reader, writer)
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
        call.agi_status = "HANGUP" if call.agi_dead else "SUCCESS"
        if not call.agi_detached:
            call.emit(one.varset("AGISTATUS", call.agi_status))

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        call = self.call
        read: asyncio.Future[bytes] | None = None
        try:
            while True:
                if read is None:
                    read = asyncio.ensure_future(reader.readline())
                if not call.agi_dead:
                    woken: asyncio.Future[Any] = asyncio.ensure_future(call.kicked.wait())
                    waiting: set[asyncio.Future[Any]] = {read, woken}
                    done, _ = await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
                    woken.cancel()
                    if read not in done:  # interrupted between commands: HANGUP at once
                        call.agi_dead = True
                        self._reply(writer, "HANGUP")
                        continue
                try:
                    line = await read
                except (OSError, ValueError):
                    line = b""
                read = None
                if not line:
                    return
                text = line.decode("utf-8", "replace").rstrip("\r\n")
                if text.strip():
                    await self._command(writer, text)
        finally:
            if read is not None:
                read.cancel()

    def _reply(self, writer: asyncio.StreamWriter, line: str) -> None:
        if not writer.is_closing():
            writer.write((line + "\n").encode("utf-8"))

    def _hangup_line_soon(self, writer: asyncio.StreamWriter) -> None:
        async def later() -> None:
            await asyncio.sleep(self.call.pbx.scaled(_HANGUP_LINE_DELAY))
            self._reply(writer, "HANGUP")

        self.call.spawn(later())

    async def _command(self, writer: asyncio.StreamWriter, text: str) -> None:
        call = self.call
        one = call.legs.one
        command = parse_command(text)
        command_id = call.pbx.ids.command_id()
        if not call.agi_detached:
            call.emit(one.agi_exec_start(command_id, text))
        resolve = partial(call.pbx.resolve, one)
        keypad = call.keypad.at(call.since_answer())
        plan = plan_command(command, keypad=keypad, resolve=resolve, dead=call.agi_dead)
        for name, value in plan.sets:
            call.emit(one.varset(name, value))
        if plan.hangs_up:
            call.emit(one.soft_hangup_request(32))
            self._reply(writer, plan.reply)
            call.emit(one.agi_exec_end(command_id, text, plan.code, plan.result))
            call.agi_dead = True
            if not call.gone:
                call.local_cause = 0
            self._hangup_line_soon(writer)
            return
        if plan.timed and not call.agi_dead:
            finished, elapsed = await self._play(plan)
            if not finished:
                self._reply(writer, interrupted_reply(plan, elapsed))
                if not call.agi_detached:
                    if plan.playback is not None:
                        call.emit(one.varset("PLAYBACKSTATUS", "FAILED"))
                    code, result = (-1, "Failure") if plan.interrupt_fails else (200, "Success")
                    call.emit(one.agi_exec_end(command_id, text, code, result))
                call.agi_dead = True
                self._hangup_line_soon(writer)
                return
        self._reply(writer, plan.reply)
        if not call.agi_detached:
            if plan.playback is not None:
                call.emit(one.varset("PLAYBACKSTATUS", plan.playback))
            call.emit(one.agi_exec_end(command_id, text, plan.code, plan.result))

    async def _play(self, plan: Plan) -> tuple[bool, float]:
        """Let a timed command run; the debtor's key (DTMF events) lands where the plan says."""
        call = self.call
        loop = asyncio.get_running_loop()
        start = loop.time()

        def elapsed() -> float:
            return (loop.time() - start) * call.pbx.time_scale

        one, two = call.legs.one, call.legs.two
        if plan.digit is None:
            return not await call.sleep(plan.seconds), elapsed()
        begin = max(0.0, plan.digit_at - 0.1)  # DTMF lasts 100 ms; the command ends with it
        if await call.sleep(begin):
            return False, elapsed()
        if two is not None and not two.hungup:
            call.emit(call.legs.step("SendDTMF", f"{plan.digit},250"))
            if plan.keypad is not None and not plan.keypad.keys:  # last key: wait to hang up
                call.emit(call.legs.step("Wait", f"{call.until_far_hangup():.0f}"))
        call.emit(one.dtmf_begin(plan.digit))
        if await call.sleep(plan.digit_at - begin):
            return False, elapsed()
        call.emit(one.dtmf_end(plan.digit))
        if plan.keypad is not None:
            call.keypad = plan.keypad
        rest = plan.seconds - plan.digit_at
        if rest > 0 and await call.sleep(rest):
            return False, elapsed()
        return True, elapsed()
