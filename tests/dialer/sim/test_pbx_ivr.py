"""Answered calls against the lab recordings: the test's FastAGI server replays the recorded IVR
commands and must get Asterisk's replies back, while the AMI side must show Asterisk's events
(per channel; the debtor side's own dialplan after the answer is the lab's, not the model's).
"""

from __future__ import annotations

import asyncio
import re

import pytest

from dialer.ami.codec import AmiMessage
from tests.dialer.sim.wire import (
    AgiConnection,
    AgiServer,
    AmiClient,
    after,
    agi_records,
    channel_of,
    make_pbx,
    recorded_actions,
    recorded_ami,
    role,
    signature,
)

_PER_CALL = {"agi_request", "agi_channel", "agi_uniqueid", "agi_threadid"}
_INTERRUPTED = re.compile(r"^200 result=-1 endpos=\d+$")


def ivr_buckets(messages: list[AmiMessage]) -> dict[str, list[tuple[str, ...]]]:
    out: dict[str, list[tuple[str, ...]]] = {}
    answered = False
    for message in messages:
        if message.event in (None, "DeviceStateChange", "OriginateResponse"):
            continue
        who = role(channel_of(message))
        sig = signature(message)
        if answered and who == ";2":
            if message.event in ("Newexten", "VarSet"):
                continue  # the lab's own [debtor-sim] steps after the answer
            sig = tuple(f for f in sig if not f.startswith("Priority="))
        if message.event == "DialEnd" and message.get("DialStatus") == "ANSWER":
            answered = True
        out.setdefault(who, []).append(sig)
    return out


def recorded(name: str) -> list[AmiMessage]:
    first = str(recorded_actions(name, "Originate")[0].action_id)
    return after(recorded_ami(name), lambda m: m.response is not None and m.action_id == first)


async def replay_agi(connection: AgiConnection, name: str) -> None:
    """Send the recorded commands, expect the recorded replies (and unsolicited lines)."""
    lines = agi_records(name)
    recorded_env = [
        tuple(line.split(": ", 1)) if ": " in line else (line.rstrip(":"), "")
        for line in lines[0].text.split("\n")
        if line != "<empty line>"
    ]
    assert list(connection.env) == [key for key, _ in recorded_env]
    for key, value in recorded_env:
        if key not in _PER_CALL:
            assert connection.env[key] == value, key
    assert connection.header.endswith(b"\n\n")
    for record in lines[1:]:
        if record.direction == "Server->Asterisk":
            connection.writer.write(record.text.encode("utf-8") + b"\n")
            continue
        got = await connection.line()
        if _INTERRUPTED.match(record.text):
            assert _INTERRUPTED.match(got), (record.text, got)
        else:
            assert got == record.text
    await connection.close()


@pytest.mark.parametrize(
    "name",
    ["answered-human-dtmf.txt", "hangup-mid-ivr.txt", "answering-machine-amd.txt", "human-amd.txt"],
)
async def test_ivr_call_matches_the_recording(name: str, agi: AgiServer) -> None:
    pbx = await make_pbx(agi, time_scale=20)
    client = await AmiClient.connect(pbx.ami_port)
    await client.login()
    try:
        action = recorded_actions(name, "Originate")[0]
        client.send(*action.headers)
        connection = await agi.accept()
        await replay_agi(connection, name)
        await client.event("Hangup", Channel=connection.env["agi_channel"])
        await asyncio.sleep(0.05)
        ours = after(client.messages, lambda m: m.action_id == action.action_id)
        theirs = recorded(name)
        assert ivr_buckets(ours) == ivr_buckets(theirs)
        responses = [
            [signature(m)[2:] for m in messages if m.event == "OriginateResponse"]
            for messages in (ours, theirs)
        ]
        assert responses[0] == responses[1]
        assert not pbx.channels
    finally:
        await client.close()
        await pbx.close()
