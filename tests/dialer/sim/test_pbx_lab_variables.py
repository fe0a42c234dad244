"""The lab's channel variables: an Originate to a lab number carrying DTMF_DIGITS, DTMF_DELAY or
HANGUP_AFTER gets the debtor the lab's `[debtor-sim]` dialplan made of them (keys sent at a fixed
time after the answer, hang-up after the last key), so `dtmf-timeout-and-interrupt.txt` replays.
"""

from __future__ import annotations

import asyncio
import re

import pytest

from dialer.sim.pbx.agi import Keypad
from dialer.sim.population import LAB_PREFIXES, lab_script
from tests.dialer.sim.wire import (
    AgiServer,
    AmiClient,
    agi_records,
    make_pbx,
    originate,
    recorded_actions,
)

_REPLY_WITH_ENDPOS = re.compile(r"^200 result=(-?\d+) endpos=(\d+)$")
_ENDPOS_SLACK = 2000  # samples (0.25 s): when a key lands mid-prompt depends on the event loop


def test_lab_script_reads_the_variables_of_the_5550001_extension() -> None:
    script = lab_script(
        "+525550001004", {"DTMF_DIGITS": "23", "DTMF_DELAY": "6", "HANGUP_AFTER": "3"}
    )
    assert script is not None
    assert script.keys == ("2", "3")
    assert script.key_delay_seconds == 6.0
    # Wait(6), SendDTMF(23,250) for 0.8 s, Wait(3): the lab hung up 9.81 s after the answer.
    assert script.hangup_after_seconds == pytest.approx(9.8)
    assert script.key_times() == pytest.approx((6.2, 6.55))  # DTMFEnd at +6.205 and +6.556


def test_unset_or_empty_variables_keep_the_lab_defaults() -> None:
    default = LAB_PREFIXES["5550001"]
    assert lab_script("5550001004") == default
    assert lab_script("5550001004", {"SCENARIO": "x"}) == default
    emptied = lab_script("5550001004", {"DTMF_DIGITS": "", "DTMF_DELAY": "", "HANGUP_AFTER": ""})
    assert emptied is not None
    assert (emptied.keys, emptied.key_delay_seconds) == (("1",), 3.0)
    assert emptied.hangup_after_seconds == pytest.approx(default.hangup_after_seconds)
    only_delay = lab_script("5550001004", {"HANGUP_AFTER": "20"})
    assert only_delay is not None
    assert only_delay.keys == ("1",)
    assert only_delay.hangup_after_seconds == pytest.approx(3.0 + 0.45 + 20.0)


def test_only_the_variables_each_lab_extension_reads_count() -> None:
    amd_human = lab_script(
        "5550006001", {"DTMF_DIGITS": "9", "DTMF_DELAY": "1", "HANGUP_AFTER": "1"}
    )
    assert amd_human is not None
    default = LAB_PREFIXES["5550006"]
    assert amd_human.keys == ("9",)  # 5550006… sends ${DTMF_DIGITS} but has fixed waits
    assert amd_human.key_delay_seconds == default.key_delay_seconds
    assert amd_human.hangup_after_seconds == pytest.approx(default.hangup_after_seconds)
    for prefix in ("5550002", "5550005", "5550007", "5550008"):
        number = f"{prefix}001"
        assert lab_script(number, {"DTMF_DIGITS": "9", "HANGUP_AFTER": "1"}) == LAB_PREFIXES[prefix]
    assert lab_script("5551234567", {"DTMF_DIGITS": "9"}) is None


def test_send_dtmf_pauses_and_flash_are_not_keys() -> None:
    script = lab_script("5550001004", {"DTMF_DIGITS": "1w2Wfa#"})
    assert script is not None
    assert script.keys == ("1", "2", "A", "#")


def test_timed_keypad_loses_keys_nobody_listened_to() -> None:
    keypad = Keypad(("2", "3"), 6.0, (6.2, 6.55))
    early = keypad.at(3.85)  # GET DATA timed out at +3.85: both keys still to come
    assert (early.keys, early.times) == (("2", "3"), (6.2, 6.55))
    assert early.delay == pytest.approx(2.35)
    late = keypad.at(6.4)  # "2" went while nothing listened
    assert (late.keys, late.times) == (("3",), (6.55,))
    assert late.delay == pytest.approx(0.15)
    assert keypad.at(7.0) == Keypad((), 0.0, ())
    key, rest = keypad.take()
    assert (key, rest.keys, rest.times) == ("2", ("3",), (6.55,))
    untimed = Keypad(("1",), 3.0)
    assert untimed.at(100.0) is untimed  # one key per prompt that asks: time does not matter


async def test_dtmf_timeout_and_interrupt_replays_with_the_recorded_variables(
    agi: AgiServer,
) -> None:
    name = "dtmf-timeout-and-interrupt.txt"
    action = recorded_actions(name, "Originate")[0]
    assert action.getall("Variable") == [
        "SCENARIO=dtmf-timeout-and-interrupt",
        "DTMF_DIGITS=23",
        "DTMF_DELAY=6",
        "HANGUP_AFTER=3",
    ]
    pbx = await make_pbx(agi, time_scale=5)
    client = await AmiClient.connect(pbx.ami_port)
    await client.login()
    try:
        client.send(*action.headers)
        connection = await agi.accept()
        for record in agi_records(name)[1:]:
            if record.direction == "Server->Asterisk":
                connection.writer.write(record.text.encode("utf-8") + b"\n")
                continue
            got = await connection.line()
            want = _REPLY_WITH_ENDPOS.match(record.text)
            if want is None:
                assert got == record.text
                continue
            have = _REPLY_WITH_ENDPOS.match(got)
            assert have is not None, (record.text, got)
            assert have[1] == want[1], (record.text, got)  # the same key (or -1)
            assert abs(int(have[2]) - int(want[2])) <= _ENDPOS_SLACK, (record.text, got)
        channel = connection.env["agi_channel"]
        await connection.close()
        await client.event("Hangup", Channel=channel)
        keys = [m["Digit"] for m in client.events() if m.event == "DTMFEnd"]
        assert keys == ["2", "3"]
    finally:
        await client.close()
        await pbx.close()


async def test_hangup_after_cuts_the_call_short(agi: AgiServer) -> None:
    scale = 5.0
    pbx = await make_pbx(agi, time_scale=scale)
    client = await AmiClient.connect(pbx.ami_port)
    await client.login()
    try:
        originate(
            client,
            "v-1",
            "5550001021",
            Variable="DTMF_DIGITS=7,DTMF_DELAY=1,HANGUP_AFTER=2",
        )
        connection = await agi.accept()
        loop = asyncio.get_running_loop()
        assert await connection.command("WAIT FOR DIGIT -1") == "200 result=55"
        pressed = loop.time()
        # Wait(1), SendDTMF(7) for 0.45 s, Wait(2): the debtor hangs up ~2.25 s after the key.
        assert await connection.command("WAIT FOR DIGIT -1") == "200 result=-1"
        waited = (loop.time() - pressed) * scale
        assert 1.5 < waited < 6.0, waited  # the lab default (HANGUP_AFTER=8) would be ~8.25 s
        assert await connection.line() == "HANGUP"
        await connection.close()
    finally:
        await client.close()
        await pbx.close()


async def test_amd_human_presses_the_digits_it_was_given(agi: AgiServer) -> None:
    pbx = await make_pbx(agi, time_scale=10)
    client = await AmiClient.connect(pbx.ami_port)
    await client.login()
    try:
        originate(client, "v-2", "5550006021", Context="ivr-amd", Variable="DTMF_DIGITS=9")
        connection = await agi.accept()
        assert connection.env["agi_arg_1"] == "HUMAN"
        assert await connection.command('STREAM FILE beep ""') == "200 result=0 endpos=3404"
        assert await connection.command("GET DATA beep 6000 1") == "200 result=9"
        await connection.close()
    finally:
        await client.close()
        await pbx.close()
