"""The AMI session of the PBX simulator against `ami-basics.txt`: banner, login, errors, lists."""

from __future__ import annotations

import asyncio
import time

from dialer.ami.codec import AmiMessage
from dialer.sim.pbx import PbxSimulator
from tests.dialer.sim.wire import (
    SCALE,
    AmiClient,
    recorded_actions,
    recorded_ami,
)


def header_names(message: AmiMessage) -> list[str]:
    return [key for key, _ in message.headers]


def recorded_reply(name: str, action_id: str) -> AmiMessage:
    return next(m for m in recorded_ami(name) if m.response and m.action_id == action_id)


async def test_banner_is_one_crlf_line_sent_at_connect(pbx: PbxSimulator) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", pbx.ami_port)
    assert await asyncio.wait_for(reader.readline(), 2) == b"Asterisk Call Manager/11.0.0\r\n"
    try:
        extra = await asyncio.wait_for(reader.read(100), 0.2)
    except TimeoutError:
        extra = b""
    assert extra == b""  # no blank line after the banner
    writer.close()


async def test_wrong_secret_is_refused_after_a_second_then_closed(pbx: PbxSimulator) -> None:
    ami = await AmiClient.connect(pbx.ami_port)
    started = time.monotonic()
    ami.action("Login", "bad-login-1", Username="dialer", Secret="wrong-secret")
    reply = await ami.reply("bad-login-1")
    assert time.monotonic() - started >= 0.9 / SCALE
    assert reply.headers == recorded_reply("ami-basics.txt", "bad-login-1").headers
    await asyncio.wait_for(ami.eof.wait(), 2)


async def test_actions_before_login_are_denied_and_the_session_stays(pbx: PbxSimulator) -> None:
    ami = await AmiClient.connect(pbx.ami_port)
    ami.action("Ping", "ping-before-login")
    reply = await ami.reply("ping-before-login")
    assert reply.headers == recorded_reply("ami-basics.txt", "ping-before-login").headers
    await ami.login(events="off")
    assert not ami.eof.is_set()
    await ami.close()


async def test_login_with_events_off_ping_events_logoff(pbx: PbxSimulator) -> None:
    ami = await AmiClient.connect(pbx.ami_port)
    ami.action("Login", "raw-login-1", Username="dialer", Secret="s3cret", Events="off")
    login = await ami.reply("raw-login-1")
    assert login.headers == recorded_reply("ami-basics.txt", "raw-login-1").headers
    ami.action("Ping", "ping-after-login")
    ping = await ami.reply("ping-after-login")
    assert header_names(ping) == ["Response", "ActionID", "Ping", "Timestamp"]
    assert abs(float(ping["Timestamp"]) - time.time()) < 5
    ami.action("Ping")  # no ActionID: the reply has none either
    bare = await ami.wait_for(lambda m: m.get("Ping") == "Pong" and m.action_id is None)
    assert header_names(bare) == ["Response", "Ping", "Timestamp"]
    ami.action("Events", "ev-1", EventMask="call,agi")
    assert (await ami.reply("ev-1")).headers == recorded_reply("ami-basics.txt", "ev-1").headers
    assert not ami.events()  # Events: off at login → no FullyBooted, no SuccessfulAuth
    ami.action("Logoff", "raw-logoff-1")
    bye = await ami.reply("raw-logoff-1")
    assert bye.headers == recorded_reply("ami-basics.txt", "raw-logoff-1").headers
    await asyncio.wait_for(ami.eof.wait(), 2)


async def test_login_success_events_have_the_recorded_shape(pbx: PbxSimulator) -> None:
    ami = await AmiClient.connect(pbx.ami_port)
    await ami.login()
    recorded = recorded_ami("ami-basics.txt")
    for name in ("FullyBooted", "SuccessfulAuth"):
        ours = await ami.event(name)
        theirs = next(m for m in recorded if m.event == name)
        assert header_names(ours) == header_names(theirs)
    auth = await ami.event("SuccessfulAuth")
    assert auth["AccountID"] == "dialer"
    assert auth["LocalAddress"] == f"IPV4/TCP/127.0.0.1/{pbx.ami_port}"
    await ami.close()


async def test_error_replies_match_asterisk(client: AmiClient) -> None:
    for action in recorded_actions("ami-basics.txt", "Hangup") + recorded_actions(
        "ami-basics.txt", "Redirect"
    ):
        client.send(*action.headers)
    for action in recorded_actions("ami-basics.txt", "Originate"):
        client.send(*action.headers)  # no Channel
    client.action("NoSuchAction", "nsa-1")
    client.action("ConfbridgeList", "cbl-1", Conference="agent-9999")
    client.action("ConfbridgeListRooms", "cblr-1")
    recorded = recorded_ami("ami-basics.txt")
    for suffix, ours_id in (
        ("1/12", None),
        ("1/13", None),
        ("1/14", None),
        ("1/15", "nsa-1"),
        ("1/16", "cbl-1"),
        ("1/17", "cblr-1"),
    ):
        theirs = next(m for m in recorded if m.response and (m.action_id or "").endswith(suffix))
        ours = await client.reply(ours_id or str(theirs.action_id))
        assert ours.get("Response") == "Error"
        assert ours.get("Message") == theirs.get("Message")
    bad = await client.event("RequestBadFormat")
    theirs_bad = next(m for m in recorded if m.event == "RequestBadFormat")
    assert header_names(bad) == header_names(theirs_bad)
    assert bad["RequestType"] == "Action: NoSuchAction"


async def test_empty_lists_and_system_actions(client: AmiClient) -> None:
    recorded = recorded_ami("ami-basics.txt")
    client.action("Status", "st-1")
    complete = await client.event("StatusComplete", ActionID="st-1")
    theirs = next(m for m in recorded if m.event == "StatusComplete")
    assert header_names(complete) == header_names(theirs)
    assert (complete["ListItems"], complete["Items"]) == ("0", "0")
    ack = await client.reply("st-1")
    assert (ack["EventList"], ack["Message"]) == ("start", "Channel status will follow")
    client.action("CoreShowChannels", "csc-1")
    shown = await client.event("CoreShowChannelsComplete", ActionID="csc-1")
    assert shown["ListItems"] == "0"
    client.action("QueueStatus", "qs-1")
    params = await client.event("QueueParams")
    assert params.headers[-1] == ("ActionID", "qs-1")
    for action in ("CoreStatus", "CoreSettings"):
        client.action(action, f"{action}-1")
        ours = await client.reply(f"{action}-1")
        theirs = next(
            m
            for m in recorded
            if m.response and m.get("AMIversion" if "Set" in action else "CoreStartupDate")
        )
        assert header_names(ours) == header_names(theirs)
    client.action("Command", "cmd-1", Command="core show version")
    version = await client.reply("cmd-1")
    assert version["Message"] == "Command output follows"
    assert version["Output"].startswith(
        "Asterisk 22.10.1 built by root @ vm on a x86_64 running Linux"
    )


async def test_setvar_and_getvar_of_a_global(client: AmiClient) -> None:
    client.action("Setvar", "sv-1", Value="42", Variable="DIALER_TEST")
    assert (await client.reply("sv-1"))["Message"] == "Variable Set"
    varset = await client.event("VarSet", Variable="DIALER_TEST")
    assert varset.headers[1:] == (
        ("Privilege", "dialplan,all"),
        ("Channel", "none"),
        ("Uniqueid", "none"),
        ("Variable", "DIALER_TEST"),
        ("Value", "42"),
    )
    client.action("Getvar", "gv-1", Variable="DIALER_TEST")
    got = await client.reply("gv-1")
    assert header_names(got) == ["Response", "ActionID", "Variable", "Value"]
    assert got["Value"] == "42"
    client.action("Getvar", "gv-2", Variable="NOT_SET_ANYWHERE")
    assert (await client.reply("gv-2"))["Value"] == ""


async def test_two_clients_both_receive_every_event(pbx: PbxSimulator, client: AmiClient) -> None:
    other = await AmiClient.connect(pbx.ami_port)
    await other.login("ops", "other")
    client.action(
        "Originate",
        "o-1",
        Channel="Local/5550002001@debtor-sim",
        Context="ivr",
        Exten="s",
        Priority="1",
        Async="true",
    )
    for ami in (client, other):
        assert (await ami.event("OriginateResponse", ActionID="o-1"))["Reason"] == "5"
    await other.close()
