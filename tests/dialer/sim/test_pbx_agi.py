"""The FastAGI face: the header, the debtor's keys, hangups mid-command, dead-channel replies,
a FastAGI server that is not there, and UTF-8 all the way from Originate to AGI and back.
"""

from __future__ import annotations

import asyncio

from dialer.ami.codec import AmiMessage
from dialer.sim.pbx import PbxSimulator
from dialer.sim.population import CallScript, Fate
from tests.dialer.sim.wire import AgiServer, AmiClient, ScriptedModel, make_pbx, originate

DEAD = "511 Command Not Permitted on a dead channel or intercept routine"
KEYS = CallScript(
    Fate.HUMAN, ring_seconds=0.5, keys=("2", "3"), key_delay_seconds=0.5, hangup_after_seconds=6.0
)


async def test_header_is_the_asterisk_block(
    pbx: PbxSimulator, client: AmiClient, agi: AgiServer
) -> None:
    originate(client, "h-1", "5550001009", ChannelId="call-h1")
    connection = await agi.accept()
    header = connection.header.decode("utf-8")
    lines = header.split("\n")
    assert header.endswith("\n\n")
    assert "\r" not in header
    assert lines[:9] == [
        "agi_network: yes",
        "agi_network_script: collections",
        f"agi_request: {agi.url}",
        f"agi_channel: {connection.env['agi_channel']}",
        "agi_language: en",
        "agi_type: Local",
        "agi_uniqueid: call-h1",
        "agi_version: 22.10.1",
        "agi_callerid: 8005550100",
    ]
    assert connection.env["agi_channel"].endswith(";1")
    assert connection.env["agi_accountcode"] == ""
    assert "agi_accountcode: \n" in header  # the trailing blank of an empty value
    assert (connection.env["agi_context"], connection.env["agi_priority"]) == ("ivr", "3")
    await connection.close()


async def test_keys_timeouts_and_a_hangup_during_get_data(agi: AgiServer) -> None:
    pbx = await make_pbx(agi, time_scale=20, model=ScriptedModel(scripted={"5551000": KEYS}))
    client = await AmiClient.connect(pbx.ami_port)
    await client.login()
    try:
        originate(client, "k-1", "5551000001")
        agi_call = await agi.accept()
        channel = agi_call.env["agi_channel"]
        assert await agi_call.command('STREAM FILE tt-monkeys "0123456789*#"') == (
            "200 result=50 endpos=4000"  # "2" half a second in
        )
        assert await agi_call.command("WAIT FOR DIGIT 3000") == "200 result=51"
        assert await agi_call.command("GET DATA beep 3000 1") == "200 result= (timeout)"
        assert await agi_call.command("GET DATA beep 8000 4") == "200 result=-1"
        assert await agi_call.line() == "HANGUP"
        assert await agi_call.command("GET VARIABLE PLAYBACKSTATUS") == "200 result=1 (FAILED)"
        assert await agi_call.command('SET VARIABLE OUTCOME "abandoned"') == "200 result=1"
        for command in ('STREAM FILE beep ""', "GET DATA beep 1000 1", "ANSWER", "HANGUP"):
            assert await agi_call.command(command) == DEAD
        digits = [
            (m.event, m["Digit"]) for m in client.events() if m.event in ("DTMFBegin", "DTMFEnd")
        ]
        assert digits == [
            ("DTMFBegin", "2"),
            ("DTMFEnd", "2"),
            ("DTMFBegin", "3"),
            ("DTMFEnd", "3"),
        ]
        ends = {
            m["Command"]: (m["ResultCode"], m["Result"])
            for m in client.events()
            if m.event == "AGIExecEnd"
        }
        assert ends["GET DATA beep 8000 4"] == ("200", "Success")
        assert ends["ANSWER"] == (
            "511",
            "Command Not Permitted on a dead channel or intercept routine",
        )
        await asyncio.sleep(0.1)
        assert not [m for m in client.events() if m.event == "Hangup" and m["Channel"] == channel]
        await agi_call.close()  # only now does the channel go
        hangup = await client.event("Hangup", Channel=channel)
        assert (hangup["Cause"], hangup["Cause-txt"]) == ("16", "Normal Clearing")
        status = await client.event("VarSet", Channel=channel, Variable="AGISTATUS")
        assert status["Value"] == "HANGUP"
    finally:
        await client.close()
        await pbx.close()


async def test_unknown_and_malformed_commands(
    pbx: PbxSimulator, client: AmiClient, agi: AgiServer
) -> None:
    originate(client, "u-1", "5550001010")
    agi_call = await agi.accept()
    assert await agi_call.command("FROB THE KNOB") == "510 Invalid or unknown command"
    assert await agi_call.command("STREAM FILE") == (
        "520-Invalid command syntax.  Proper usage follows:"
    )
    assert (await agi_call.line()).startswith("Usage: STREAM FILE")
    assert await agi_call.line() == "520 End of proper usage."
    assert await agi_call.command('GET FULL VARIABLE "${CALLERID(name)}/${CHANNEL}"') == (
        f"200 result=1 (Collections Dept/{agi_call.env['agi_channel']})"
    )
    await agi_call.close()


async def _closed_port() -> int:
    probe = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = int(probe.sockets[0].getsockname()[1])
    probe.close()
    await probe.wait_closed()
    return port


async def test_no_fastagi_server_means_agistatus_failure() -> None:
    for agi_url in (f"agi://127.0.0.1:{await _closed_port()}/collections", None):
        pbx = PbxSimulator(users={"dialer": "s3cret"}, ami_port=0, time_scale=50, agi_url=agi_url)
        await pbx.start()
        ami = await AmiClient.connect(pbx.ami_port)
        await ami.login()
        try:
            originate(ami, "f-1", "5550001011")
            status = await ami.event("VarSet", Variable="AGISTATUS")
            assert status["Value"] == "FAILURE"
            channel = status["Channel"]
            await ami.event("Hangup", Channel=channel)
            steps = [
                (m["Application"], m["AppData"])
                for m in ami.events()
                if m.event == "Newexten" and m["Channel"] == channel and m["Context"] == "ivr"
            ]
            assert [app for app, _ in steps] == ["NoOp", "Answer", "AGI", "NoOp", "Hangup"]
            assert steps[3][1] == "AGISTATUS=FAILURE"
            assert all(c.name != channel for c in pbx.channels)
        finally:
            await ami.close()
            await pbx.close()


async def test_utf8_variables_round_trip(
    pbx: PbxSimulator, client: AmiClient, agi: AgiServer
) -> None:
    originate(client, "n-1", "5550001012", Variable="DEBTOR_NAME=Peña Núñez")
    sets: list[AmiMessage] = []
    while len(sets) < 2:
        sets = [
            m for m in client.events() if m.event == "VarSet" and m.get("Variable") == "DEBTOR_NAME"
        ]
        await asyncio.sleep(0.01)
    assert [m["Value"] for m in sets] == ["Peña Núñez", "Peña Núñez"]
    assert "Value: Peña Núñez\r\n".encode() in bytes(client.raw)
    agi_call = await agi.accept()
    assert await agi_call.command("GET VARIABLE DEBTOR_NAME") == "200 result=1 (Peña Núñez)"
    assert await agi_call.command('SET VARIABLE SALUDO "¿Habla José?"') == "200 result=1"
    saludo = await client.event("VarSet", Variable="SALUDO")
    assert saludo["Value"] == "¿Habla José?"
    client.action("Getvar", "g-1", Channel=agi_call.env["agi_channel"], Variable="SALUDO")
    assert (await client.reply("g-1"))["Value"] == "¿Habla José?"
    await agi_call.close()


async def test_machine_reaches_the_ivr_with_amd_arguments(
    pbx: PbxSimulator, client: AmiClient, agi: AgiServer
) -> None:
    originate(client, "m-1", "5550005001", Context="ivr-amd")
    agi_call = await agi.accept()
    assert (agi_call.env["agi_arg_1"], agi_call.env["agi_arg_2"]) == (
        "MACHINE",
        "LONGGREETING-1500-1500",
    )
    assert agi_call.env["agi_priority"] == "5"
    assert await agi_call.command("GET VARIABLE AMDSTATUS") == "200 result=1 (MACHINE)"
    await agi_call.close()


async def test_dialer_hangup_of_an_answered_call(
    pbx: PbxSimulator, client: AmiClient, agi: AgiServer
) -> None:
    originate(client, "d-1", "5550001013")
    agi_call = await agi.accept()
    channel = agi_call.env["agi_channel"]
    agi_call.writer.write(b'STREAM FILE tt-monkeys ""\n')
    await client.event("AGIExecStart", Channel=channel, Command='STREAM FILE tt-monkeys ""')
    client.action("Hangup", "hu-1", Channel=channel, Cause="16")
    assert (await client.reply("hu-1"))["Message"] == "Channel Hungup"
    assert (await agi_call.line()).startswith("200 result=-1 endpos=")
    assert await agi_call.line() == "HANGUP"
    await agi_call.close()
    hangup = await client.event("Hangup", Channel=channel)
    assert hangup["Cause"] == "16"
    far = await client.event("Hangup", Channel=channel[:-1] + "2")
    assert far["Cause"] == "16"
