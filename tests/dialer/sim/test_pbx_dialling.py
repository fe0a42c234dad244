"""Dialling outcomes against the lab recordings: the recorded Originate is sent again and the
simulator's events must match Asterisk's, channel by channel (Asterisk orders events per channel;
across channels the order is a race, see README fact 11).
"""

from __future__ import annotations

import asyncio

import pytest

from dialer.ami.codec import AmiMessage
from dialer.sim.pbx import PbxSimulator
from dialer.sim.population import CallScript, Fate
from tests.dialer.sim.wire import (
    AmiClient,
    ScriptedModel,
    after,
    by_role,
    channel_of,
    make_pbx,
    recorded_actions,
    recorded_ami,
    role,
)


def _bucket(message: AmiMessage) -> str:
    if message.event == "OriginateResponse":
        return "OriginateResponse"
    if message.event == "DeviceStateChange":
        return "DeviceStateChange"
    return role(channel_of(message))


def buckets(messages: list[AmiMessage]) -> dict[str, list[tuple[str, ...]]]:
    """Per channel, plus OriginateResponse and DeviceStateChange on their own (cross-thread)."""
    out: dict[str, list[tuple[str, ...]]] = {}
    for sigs in by_role(messages).values():
        for sig in sigs:
            own = sig[0] in ("OriginateResponse", "DeviceStateChange")
            out.setdefault(sig[0] if own else sig[1], []).append(sig)
    return out


async def replay(client: AmiClient, pbx: PbxSimulator, name: str) -> list[AmiMessage]:
    """Send the transcript's Originates; return what came back once every channel is gone."""
    originates = recorded_actions(name, "Originate")
    for action in originates:
        client.send(*action.headers)
        action_id = str(action.action_id)
        is_async = (action.get("Async") or "").lower() == "true"

        def outcome(m: AmiMessage, action_id: str = action_id, is_async: bool = is_async) -> bool:
            done = m.event == "OriginateResponse" if is_async else m.response is not None
            return done and m.action_id == action_id

        await client.wait_for(outcome)
        for _ in range(200):
            if not pbx.channels:
                break
            await asyncio.sleep(0.01)
    await asyncio.sleep(0.05)
    first = str(originates[0].action_id)
    return after(client.messages, lambda m: m.response is not None and m.action_id == first)


def recorded(name: str) -> list[AmiMessage]:
    first = str(recorded_actions(name, "Originate")[0].action_id)
    messages = after(recorded_ami(name), lambda m: m.response is not None and m.action_id == first)
    return [m for m in messages if m.get("Ping") is None and m.response != "Goodbye"]


def replies(messages: list[AmiMessage]) -> list[tuple[str | None, str | None, str | None]]:
    return [(m.action_id, m.response, m.get("Message")) for m in messages if m.response]


@pytest.mark.parametrize(
    "name", ["busy.txt", "congestion.txt", "no-answer.txt", "rejected.txt", "busy-sync.txt"]
)
async def test_dialling_outcome_matches_the_recording(
    name: str, pbx: PbxSimulator, client: AmiClient
) -> None:
    ours = await replay(client, pbx, name)
    theirs = recorded(name)
    assert replies(ours) == replies(theirs)
    assert buckets(ours) == buckets(theirs)
    assert len(buckets(theirs)[";1"]) >= 6  # the comparison sees the whole call


async def test_invalid_numbers_contexts_and_technologies_match_the_recording() -> None:
    model = ScriptedModel(scripted={"9999999999": CallScript(Fate.INVALID, ring_seconds=0.0)})
    pbx = await make_pbx(model=model)
    client = await AmiClient.connect(pbx.ami_port)
    await client.login()
    try:
        ours = await replay(client, pbx, "invalid-number.txt")
        theirs = recorded("invalid-number.txt")
        assert replies(ours) == replies(theirs)
        assert buckets(ours) == buckets(theirs)
        foo = [
            m for m in ours if m.event == "OriginateResponse" and m["Channel"] == "FOO/5550001001"
        ]
        assert [(m["Response"], m["Reason"], m["Uniqueid"]) for m in foo] == [
            ("Failure", "0", "<unknown>")
        ]
    finally:
        await client.close()
        await pbx.close()


async def test_channel_ids_become_uniqueids_and_hangup_cancels_ringing(
    pbx: PbxSimulator, client: AmiClient
) -> None:
    action = recorded_actions("cancel-ringing.txt", "Originate")[0]
    client.send(*action.headers)
    ringing = await client.event("DialState", DialStatus="RINGING")
    channel = ringing["DestChannel"]
    assert ringing["DestUniqueid"] == "dialer-call-0001"
    client.action("Hangup", "hangup-ringing", Channel=channel, Cause="16")
    await client.event("OriginateResponse", ActionID="orig-cancel-5550003002")
    await asyncio.sleep(0.05)
    ours = after(client.messages, lambda m: m.action_id == "orig-cancel-5550003002")
    theirs = recorded("cancel-ringing.txt")
    assert replies(ours) == replies(theirs)
    assert buckets(ours) == buckets(theirs)
    uniqueids = {m["Channel"][-2:]: m["Uniqueid"] for m in ours if m.event == "Newchannel"}
    assert uniqueids == {";1": "dialer-call-0001", ";2": "dialer-call-0001-2"}
    response = next(m for m in ours if m.event == "OriginateResponse")
    assert (response["Reason"], response["Uniqueid"]) == ("0", "dialer-call-0001")
    assert pbx.originations["dialer-call-0001"] == 1
    assert pbx.originations["Local/5550003002@debtor-sim"] == 1
    client.action("Hangup", "again", Channel=channel)
    assert (await client.reply("again"))["Message"] == "No such channel"


async def test_pjsip_trunk_is_one_channel_with_the_cause(
    pbx: PbxSimulator, client: AmiClient
) -> None:
    client.action(
        "Originate",
        "pj-busy",
        Channel="PJSIP/+15550002001@trunk",
        Context="ivr",
        Exten="s",
        Priority="1",
        Async="true",
        ChannelId="call-9",
    )
    response = await client.event("OriginateResponse", ActionID="pj-busy")
    assert (response["Response"], response["Reason"]) == ("Failure", "5")
    hangup = await client.event("Hangup", Uniqueid="call-9")
    assert hangup["Channel"].startswith("PJSIP/trunk-")
    assert (hangup["Cause"], hangup["Cause-txt"]) == ("17", "User busy")
    begin = await client.event("DialBegin")
    assert begin["DialString"] == "+15550002001@trunk"
    names = {channel_of(m) for m in client.events() if m.event != "OriginateResponse"}
    assert names - {None} == {hangup["Channel"]}
    client.action(
        "Originate",
        "pj-rej",
        Channel="PJSIP/trunk/5550008001",
        Context="ivr",
        Exten="s",
        Async="true",
    )
    rejected = await client.event("OriginateResponse", ActionID="pj-rej")
    assert rejected["Reason"] == "8"  # a trunk's rejection is reported as congestion


async def test_timeout_turns_a_late_answer_into_no_answer(
    pbx: PbxSimulator, client: AmiClient
) -> None:
    client.action(
        "Originate",
        "short",
        Channel="Local/5550001001@debtor-sim",
        Context="ivr",
        Exten="s",
        Timeout="1000",
        Async="true",
    )
    response = await client.event("OriginateResponse", ActionID="short")
    assert (response["Response"], response["Reason"]) == ("Failure", "3")
    hangups = [m for m in client.events() if m.event == "Hangup"]
    assert [h["Cause"] for h in hangups] == ["19", "19"]
