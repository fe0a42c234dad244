"""Moving a debtor to an agent: AMI Redirect into ConfBridge (after the FastAGI socket closes)
and the AMI Bridge action, against `agent-bridge.txt` and `agent-bridge-action.txt`; then
concurrent calls, dropped AMI clients and the list actions with live channels.
"""

from __future__ import annotations

import asyncio

from dialer.ami.codec import AmiMessage
from dialer.sim.pbx import PbxSimulator
from tests.dialer.sim.wire import (
    AgiConnection,
    AgiServer,
    AmiClient,
    make_pbx,
    recorded_actions,
    recorded_ami,
    run_of,
    signature,
)


def names(message: AmiMessage) -> list[str]:
    return [key for key, _ in message.headers]


def block(
    messages: list[AmiMessage], first: str, last: str, *, skip: tuple[str, ...] = ()
) -> list[tuple[str, ...]]:
    """Signatures from the first `first` event to the next `last` event, both included."""
    out: list[tuple[str, ...]] = []
    started = False
    for message in messages:
        if message.event is None or message.event in ("DeviceStateChange", *skip):
            continue
        if not started and message.event != first:
            continue
        started = True
        out.append(signature(message))
        if message.event == last and len(out) > 1:
            break
    return out


async def start_agent_and_debtor(
    client: AmiClient, agi: AgiServer, transcript: str
) -> tuple[str, str, AgiConnection]:
    """Originate the recorded agent and debtor legs; the debtor presses 1 in the IVR."""
    agent_action, debtor_action = recorded_actions(transcript, "Originate")
    client.send(*agent_action.headers)
    agent = await client.event("OriginateResponse", ActionID=str(agent_action.action_id))
    client.send(*debtor_action.headers)
    connection = await agi.accept()
    assert await connection.command("ANSWER") == "200 result=0"
    assert await connection.command("GET DATA beep 6000 1") == "200 result=1"
    assert await connection.command('SET VARIABLE DEBTOR_CHOICE "1"') == "200 result=1"
    connection.writer.write(b'STREAM FILE tt-monkeys ""\n')
    debtor = connection.env["agi_channel"]
    await client.event("AGIExecStart", Channel=debtor, Command='STREAM FILE tt-monkeys ""')
    return agent["Channel"], debtor, connection


async def test_redirect_joins_the_conference_only_after_the_agi_closes(agi: AgiServer) -> None:
    pbx = await make_pbx(agi, time_scale=20)
    client = await AmiClient.connect(pbx.ami_port)
    await client.login()
    recorded = recorded_ami("agent-bridge.txt")
    try:
        agent, debtor, connection = await start_agent_and_debtor(client, agi, "agent-bridge.txt")
        await client.event("ConfbridgeJoin", Channel=agent)
        client.action(
            "Redirect", "rd-1", Channel=debtor, Context="agent-bridge", Exten="1001", Priority="1"
        )
        assert (await client.reply("rd-1"))["Message"] == "Redirect successful"
        assert (await connection.line()).startswith("200 result=-1 endpos=")
        assert await connection.line() == "HANGUP"
        assert await connection.command("GET VARIABLE DEBTOR_CHOICE") == "200 result=1 (1)"
        await asyncio.sleep(0.1)
        assert not [
            m for m in client.events() if m.event == "ConfbridgeJoin" and m["Channel"] == debtor
        ]
        mark = len(client.messages)
        await connection.close()
        await client.event("VarSet", start=mark, Channel=debtor, Variable="BRIDGEPEER")
        agistatus = lambda m: m.get("Variable") == "AGISTATUS"  # noqa: E731
        assert run_of(client.messages, agistatus, 7) == run_of(recorded, agistatus, 7)

        client.action("ConfbridgeList", "cb-1", Conference="agent-1001")
        done = await client.event("ConfbridgeListComplete", ActionID="cb-1")
        assert done["ListItems"] == "2"
        items = [
            m for m in client.messages if m.event == "ConfbridgeList" and m.action_id == "cb-1"
        ]
        theirs = [m for m in recorded if m.event == "ConfbridgeList"]
        assert [names(m) for m in items] == [names(m) for m in theirs]
        assert [m["MarkedUser"] for m in items] == ["Yes", "No"]
        client.action("CoreShowChannels", "csc-1")
        assert (await client.event("CoreShowChannelsComplete", ActionID="csc-1"))[
            "ListItems"
        ] == "4"
        shown = [
            m for m in client.messages if m.event == "CoreShowChannel" and m.action_id == "csc-1"
        ]
        assert names(shown[0]) == names(next(m for m in recorded if m.event == "CoreShowChannel"))

        # The debtor hangs up (the lab human leaves 11 s after answering), then we drop the agent.
        await client.event("Hangup", Channel=debtor)
        leaving = lambda m: m.event == "ConfbridgeLeave"  # noqa: E731
        assert run_of(client.messages, leaving, 11) == run_of(recorded, leaving, 11)
        mark = len(client.messages)
        client.action("Hangup", "hangup-agent", Channel=agent, Cause="16")
        assert (await client.reply("hangup-agent"))["Message"] == "Channel Hungup"
        await client.event("Hangup", start=mark, Channel=agent[:-1] + "2")
        at = next(i for i, m in enumerate(recorded) if m.action_id == "hangup-agent")
        assert run_of(client.messages[mark:], leaving, 11) == run_of(recorded[at:], leaving, 11)
        await asyncio.sleep(0.05)
        assert not pbx.channels
        assert not pbx.conferences
    finally:
        await client.close()
        await pbx.close()


async def test_bridge_action_moves_both_legs_at_once(agi: AgiServer) -> None:
    pbx = await make_pbx(agi, time_scale=20)
    client = await AmiClient.connect(pbx.ami_port)
    await client.login()
    recorded = recorded_ami("agent-bridge-action.txt")
    try:
        agent, debtor, connection = await start_agent_and_debtor(
            client, agi, "agent-bridge-action.txt"
        )
        mark = len(client.messages)
        client.action("Bridge", "bridge-debtor-agent", Channel1=debtor, Channel2=agent, Tone="no")
        reply = await client.reply("bridge-debtor-agent")
        assert reply["Message"] == "Channels have been bridged"
        assert (await connection.line()).startswith("200 result=-1 endpos=")
        assert await connection.line() == "HANGUP"
        await client.event("NewConnectedLine", start=mark, Channel=debtor)
        ours = block(client.messages[mark:], "BridgeCreate", "NewConnectedLine")
        theirs = block(recorded, "BridgeCreate", "NewConnectedLine")
        assert [s for s in ours if s[0] != "VarSet"] == [s for s in theirs if s[0] != "VarSet"]
        entered = [m for m in client.events(mark) if m.event == "BridgeEnter"]
        assert [(m["Channel"], m["Priority"]) for m in entered] == [(debtor, "4"), (agent, "4")]
        client.action("BridgeList", "bl-1")
        assert (await client.event("BridgeListComplete", ActionID="bl-1"))["ListItems"] == "1"
        mark = len(client.messages)
        assert await connection.command("GET VARIABLE DEBTOR_CHOICE") == "200 result=1 (1)"
        await connection.close()
        await asyncio.sleep(0.05)
        assert not [m for m in client.events(mark) if m.event in ("AGIExecStart", "VarSet")]
        await client.event("BridgeDestroy")
        await client.event("Hangup", Channel=agent[:-1] + "2")

        def far_hangup(m: AmiMessage) -> bool:
            return m.get("Application") == "Hangup" and m["Channel"].endswith(";2")

        skip = ("NewCallerid",)
        assert run_of(client.messages, far_hangup, 16, skip) == run_of(
            recorded, far_hangup, 16, skip
        )
        destroy = [m for m in client.events(mark) if m.event in ("BridgeLeave", "BridgeDestroy")]
        assert [(m.event, m["BridgeNumChannels"]) for m in destroy] == [
            ("BridgeLeave", "1"),
            ("BridgeLeave", "0"),
            ("BridgeDestroy", "0"),
        ]
        await asyncio.sleep(0.05)
        assert not pbx.channels
        assert not pbx.bridges
    finally:
        await client.close()
        await pbx.close()


async def test_concurrent_calls_interleave_and_both_complete(
    pbx: PbxSimulator, client: AmiClient, agi: AgiServer
) -> None:
    for n in (1, 2):
        client.action(
            "Originate",
            f"c-{n}",
            Channel=f"Local/555000100{n}@debtor-sim",
            Context="ivr",
            Exten="s",
            Async="true",
            ChannelId=f"conc-{n}",
        )
    sessions = [await agi.accept(), await agi.accept()]
    assert {s.env["agi_uniqueid"] for s in sessions} == {"conc-1", "conc-2"}
    for session in sessions:
        assert await session.command("ANSWER") == "200 result=0"
        await session.close()
    for n in (1, 2):
        assert (await client.event("OriginateResponse", ActionID=f"c-{n}"))["Reason"] == "4"
        await client.event("Hangup", Uniqueid=f"conc-{n}")
    order = [
        m["Uniqueid"] for m in client.events() if (m.get("Uniqueid") or "").startswith("conc-")
    ]
    first_of_2 = order.index("conc-2")
    assert "conc-1" in order[first_of_2:]  # the two calls' events are interleaved
    assert pbx.originations["conc-1"] == pbx.originations["conc-2"] == 1


async def test_dropped_clients_reconnect_and_the_call_goes_on(
    pbx: PbxSimulator, client: AmiClient
) -> None:
    client.action(
        "Originate",
        "long",
        Channel="Local/5550003009@debtor-sim",
        Context="ivr",
        Exten="s",
        Async="true",
        ChannelId="long-1",
        Timeout="30000",
    )
    await client.event("DialState", DialStatus="RINGING")
    await pbx.drop_clients()
    await asyncio.wait_for(client.eof.wait(), 2)
    again = await AmiClient.connect(pbx.ami_port)
    await again.login()
    again.action("CoreShowChannels", "csc")
    await again.event("CoreShowChannelsComplete", ActionID="csc")
    listed = [m for m in again.events() if m.event == "CoreShowChannel"]
    assert "long-1" in {m["Uniqueid"] for m in listed}
    assert all(m.action_id == "csc" for m in listed)
    again.action("Status", "st")
    await again.event("StatusComplete", ActionID="st")
    status = [m for m in again.messages if m.event == "Status"]
    assert status
    assert all(m.headers[-1] == ("ActionID", "st") for m in status)
    assert names(status[0])[-4:] == ["Callgroup", "Pickupgroup", "Seconds", "ActionID"]
    response = await again.event("OriginateResponse", ActionID="long")
    assert response["Reason"] == "3"  # the 30 s timeout, 50× faster
    assert pbx.originations["long-1"] == 1
    await again.close()
