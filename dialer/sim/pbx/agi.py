"""FastAGI as Asterisk speaks it, sans-I/O: the `agi_*` header, command parsing, and what each
command does when the debtor of a `CallScript` is on the line.

`plan_command` says how long a command runs, which key the debtor presses during it, and the
reply line; the session runner only waits and writes. Replies and timings follow the lab
recordings (README facts 16–18): `200 result=0 endpos=3404` for the 0.43 s beep, GET DATA's
`(timeout)`, `result=-1` when the far end hangs up, `511` for media on a dead channel.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from urllib.parse import urlsplit

__all__ = [
    "DEAD_REPLY",
    "AgiCommand",
    "AgiUrl",
    "Keypad",
    "Plan",
    "Verb",
    "environment",
    "interrupted_reply",
    "parse_agi_url",
    "parse_command",
    "plan_command",
    "substitute",
]

SAMPLE_RATE = 8000  # endpos counts 8 kHz samples
DEAD_REPLY = "511 Command Not Permitted on a dead channel or intercept routine"
DEAD_RESULT = "Command Not Permitted on a dead channel or intercept routine"
# Lengths (samples) of the core sounds the lab used; anything else plays for three seconds.
SOUND_SAMPLES = {
    "beep": 3404,
    "goodbye": 7459,
    "hello": 6290,
    "vm-intro": 44800,
    "tt-monkeys": 83200,
}
_UNKNOWN_SOUND_SAMPLES = 3 * SAMPLE_RATE
_SAY_DIGIT_SECONDS = 0.75


class Verb(StrEnum):
    """The AGI commands the simulator knows (res_agi.c names them the same way)."""

    ANSWER = "ANSWER"
    ASYNCAGI_BREAK = "ASYNCAGI BREAK"
    CHANNEL_STATUS = "CHANNEL STATUS"
    CONTROL_STREAM_FILE = "CONTROL STREAM FILE"
    DATABASE_DEL = "DATABASE DEL"
    DATABASE_DELTREE = "DATABASE DELTREE"
    DATABASE_GET = "DATABASE GET"
    DATABASE_PUT = "DATABASE PUT"
    EXEC = "EXEC"
    GET_DATA = "GET DATA"
    GET_FULL_VARIABLE = "GET FULL VARIABLE"
    GET_OPTION = "GET OPTION"
    GET_VARIABLE = "GET VARIABLE"
    HANGUP = "HANGUP"
    NOOP = "NOOP"
    SAY_ALPHA = "SAY ALPHA"
    SAY_DATE = "SAY DATE"
    SAY_DATETIME = "SAY DATETIME"
    SAY_DIGITS = "SAY DIGITS"
    SAY_NUMBER = "SAY NUMBER"
    SAY_PHONETIC = "SAY PHONETIC"
    SAY_TIME = "SAY TIME"
    SET_AUTOHANGUP = "SET AUTOHANGUP"
    SET_CALLERID = "SET CALLERID"
    SET_CONTEXT = "SET CONTEXT"
    SET_EXTENSION = "SET EXTENSION"
    SET_MUSIC = "SET MUSIC"
    SET_PRIORITY = "SET PRIORITY"
    SET_VARIABLE = "SET VARIABLE"
    STREAM_FILE = "STREAM FILE"
    VERBOSE = "VERBOSE"
    WAIT_FOR_DIGIT = "WAIT FOR DIGIT"


# res_agi.c marks these as allowed on a dead channel; every other command gets 511.
_DEAD_OK = frozenset(
    {
        Verb.ASYNCAGI_BREAK,
        Verb.DATABASE_DEL,
        Verb.DATABASE_DELTREE,
        Verb.DATABASE_GET,
        Verb.DATABASE_PUT,
        Verb.EXEC,
        Verb.GET_FULL_VARIABLE,
        Verb.GET_VARIABLE,
        Verb.NOOP,
        Verb.SET_VARIABLE,
        Verb.VERBOSE,
    }
)
# Minimum argument count after the verb, and the usage line of the 520 reply.
_USAGE: dict[Verb, tuple[int, str]] = {
    Verb.STREAM_FILE: (2, "Usage: STREAM FILE <filename> <escape_digits> [sample offset]"),
    Verb.CONTROL_STREAM_FILE: (2, "Usage: CONTROL STREAM FILE <filename> <escape_digits>"),
    Verb.GET_DATA: (1, "Usage: GET DATA <file to be streamed> [timeout] [max digits]"),
    Verb.GET_OPTION: (2, "Usage: GET OPTION <filename> <escape_digits> [timeout]"),
    Verb.GET_VARIABLE: (1, "Usage: GET VARIABLE <variablename>"),
    Verb.GET_FULL_VARIABLE: (1, "Usage: GET FULL VARIABLE <variablename> [<channel name>]"),
    Verb.SET_VARIABLE: (2, "Usage: SET VARIABLE <variablename> <value>"),
    Verb.WAIT_FOR_DIGIT: (1, "Usage: WAIT FOR DIGIT <timeout>"),
    Verb.SAY_DIGITS: (2, "Usage: SAY DIGITS <number> <escape_digits>"),
    Verb.SAY_NUMBER: (2, "Usage: SAY NUMBER <number> <escape_digits> [gender]"),
    Verb.SAY_ALPHA: (2, "Usage: SAY ALPHA <number> <escape_digits>"),
    Verb.SAY_PHONETIC: (2, "Usage: SAY PHONETIC <string> <escape_digits>"),
    Verb.SAY_DATE: (2, "Usage: SAY DATE <date> <escape_digits>"),
    Verb.SAY_TIME: (2, "Usage: SAY TIME <time> <escape_digits>"),
    Verb.SAY_DATETIME: (2, "Usage: SAY DATETIME <time> <escape_digits> [format] [timezone]"),
    Verb.VERBOSE: (1, "Usage: VERBOSE <message> <level>"),
    Verb.EXEC: (1, "Usage: EXEC <application> <options>"),
}


@dataclass(frozen=True, slots=True)
class AgiUrl:
    """Where the FastAGI server listens and which script the header names."""

    url: str
    host: str
    port: int
    script: str


def parse_agi_url(url: str) -> AgiUrl:
    """`agi://host[:port]/script`; the port defaults to 4573 as in Asterisk."""
    parts = urlsplit(url)
    if parts.scheme != "agi" or not parts.hostname:
        raise ValueError(
            f"AGI URL {url!r}: use agi://host:port/script, e.g. agi://127.0.0.1:4573/ivr"
        )
    try:
        port = parts.port or 4573
    except ValueError:
        raise ValueError(f"AGI URL {url!r}: the port is not a number between 1 and 65535") from None
    return AgiUrl(url, parts.hostname, port, parts.path.lstrip("/"))


def environment(
    *,
    url: AgiUrl,
    channel: str,
    agi_type: str,
    uniqueid: str,
    caller_num: str,
    caller_name: str,
    context: str,
    exten: str,
    priority: int,
    thread_id: int,
    args: Sequence[str] = (),
) -> bytes:
    """The `agi_*` header block Asterisk 22 sends first (LF line ends, an empty line ends it)."""
    known = [
        ("network", "yes"),
        ("network_script", url.script),
        ("request", url.url),
        ("channel", channel),
        ("language", "en"),
        ("type", agi_type),
        ("uniqueid", uniqueid),
        ("version", "22.10.1"),
        ("callerid", caller_num if caller_num != "<unknown>" else "unknown"),
        ("calleridname", caller_name if caller_name != "<unknown>" else "unknown"),
        ("callingpres", "0"),
        ("callingani2", "0"),
        ("callington", "0"),
        ("callingtns", "0"),
        ("dnid", "unknown"),
        ("rdnis", "unknown"),
        ("context", context),
        ("extension", exten),
        ("priority", str(priority)),
        ("enhanced", "0.0"),
        ("accountcode", ""),
        ("threadid", str(thread_id)),
    ]
    known += [(f"arg_{n}", value) for n, value in enumerate(args, start=1)]
    return ("".join(f"agi_{key}: {value}\n" for key, value in known) + "\n").encode("utf-8")


def _tokens(line: str) -> list[str]:
    """Split like res_agi's parse_args: blanks separate, double quotes group, `\\` escapes."""
    out: list[str] = []
    current: list[str] = []
    quoted = escaped = started = False
    for ch in line:
        if escaped:
            current.append(ch)
            escaped = False
        elif ch == "\\":
            escaped = started = True
        elif ch == '"':
            quoted = not quoted
            started = True
        elif ch.isspace() and not quoted:
            if started:
                out.append("".join(current))
                current, started = [], False
        else:
            current.append(ch)
            started = True
    if started:
        out.append("".join(current))
    return out


@dataclass(frozen=True, slots=True)
class AgiCommand:
    """One command line as the FastAGI server sent it."""

    line: str
    verb: Verb | None
    args: tuple[str, ...]


_VERBS = sorted(((tuple(v.value.split()), v) for v in Verb), key=lambda item: -len(item[0]))


def parse_command(line: str) -> AgiCommand:
    tokens = _tokens(line)
    upper = [t.upper() for t in tokens]
    for words, verb in _VERBS:
        if tuple(upper[: len(words)]) == words:
            return AgiCommand(line, verb, tuple(tokens[len(words) :]))
    return AgiCommand(line, None, tuple(tokens))


@dataclass(frozen=True, slots=True)
class Keypad:
    """The keys the debtor still means to press, one per prompt that asks for one.

    With `times` (the lab's SendDTMF) each key lands at a fixed time after the answer instead,
    and a key sent while no command listened is gone, as on a real channel.
    """

    keys: tuple[str, ...]
    delay: float  # from the prompt's start to the keypress
    times: tuple[float, ...] = ()  # seconds after the answer at which each key ends

    def take(self) -> tuple[str | None, Keypad]:
        if not self.keys:
            return None, self
        return self.keys[0], replace(self, keys=self.keys[1:], times=self.times[1:])

    def at(self, elapsed: float) -> Keypad:
        """The keypad for a command that starts `elapsed` seconds after the answer."""
        if not self.times:
            return self
        pending = [(key, t) for key, t in zip(self.keys, self.times, strict=True) if t >= elapsed]
        keys = tuple(key for key, _ in pending)
        times = tuple(t for _, t in pending)
        return Keypad(keys, times[0] - elapsed if times else 0.0, times)


@dataclass(frozen=True, slots=True)
class Plan:
    """What a command does if nothing interrupts it, and how it reports an interruption."""

    reply: str
    seconds: float = 0.0  # until it returns (math.inf: until something happens)
    keypad: Keypad | None = None  # the debtor afterwards, when the command heard a key
    digit: str | None = None  # a key the debtor presses `digit_at` seconds in (DTMF events)
    digit_at: float = 0.0
    playback: str | None = None  # PLAYBACKSTATUS on completion
    sets: tuple[tuple[str, str], ...] = ()
    hangs_up: bool = False
    code: int = 200
    result: str = "Success"
    endpos_from: int | None = None  # media position: an interrupted reply reports endpos
    interrupt_fails: bool = True  # AGIExecEnd -1/Failure when cut short (GET DATA: 200/Success)

    @property
    def timed(self) -> bool:
        return self.seconds > 0


def interrupted_reply(plan: Plan, elapsed: float) -> str:
    """The reply of a command cut short by a hangup or a redirect after `elapsed` seconds."""
    if plan.endpos_from is not None:
        return f"200 result=-1 endpos={plan.endpos_from + int(elapsed * SAMPLE_RATE)}"
    return "200 result=-1"


def sound_samples(name: str) -> int:
    if name.startswith("silence/") and name.removeprefix("silence/").isdigit():
        return int(name.removeprefix("silence/")) * SAMPLE_RATE
    return SOUND_SAMPLES.get(name, _UNKNOWN_SOUND_SAMPLES)


def substitute(expression: str, resolve: Callable[[str], str | None]) -> str:
    """Expand `${NAME}` and `${FUNC(arg)}` the way GET FULL VARIABLE does (unknown → empty)."""
    out: list[str] = []
    i = 0
    while i < len(expression):
        if expression.startswith("${", i):
            depth, j = 1, i + 2
            while j < len(expression) and depth:
                if expression.startswith("${", j):
                    depth += 1
                    j += 1
                elif expression[j] == "}":
                    depth -= 1
                j += 1
            inner = substitute(expression[i + 2 : j - 1], resolve)
            out.append(resolve(inner) or "")
            i = j
        else:
            out.append(expression[i])
            i += 1
    return "".join(out)


def _int(text: str | None, default: int) -> int:
    try:
        return int(text) if text is not None and text.strip() else default
    except ValueError:
        return default


def _arg(args: tuple[str, ...], index: int) -> str | None:
    return args[index] if len(args) > index else None


def _media(
    keypad: Keypad, seconds: float, escape: str, samples_from: int, samples: int
) -> tuple[Plan, Keypad]:
    """Playback with escape digits: the debtor presses a key `delay` into it if it listens."""
    key, after = keypad.take() if escape else (None, keypad)
    if key is not None and keypad.delay < seconds:
        endpos = samples_from + int(keypad.delay * SAMPLE_RATE)
        if key in escape:
            reply = f"200 result={ord(key)} endpos={endpos}"
            return Plan(
                reply, keypad.delay, after, key, keypad.delay, "FAILED", endpos_from=samples_from
            ), after
        # A key that is not an escape digit is heard and dropped; the prompt plays on.
        return Plan(
            f"200 result=0 endpos={samples}",
            seconds,
            after,
            key,
            keypad.delay,
            "SUCCESS",
            endpos_from=samples_from,
        ), after
    plan = Plan(
        f"200 result=0 endpos={samples}", seconds, playback="SUCCESS", endpos_from=samples_from
    )
    return plan, keypad


def plan_command(
    command: AgiCommand,
    *,
    keypad: Keypad,
    resolve: Callable[[str], str | None],
    dead: bool,
) -> Plan:
    """What `command` does on this call now (dead: the channel hung up or left the AGI)."""
    verb, args = command.verb, command.args
    if verb is None:
        return Plan("510 Invalid or unknown command", code=510, result="Invalid or unknown command")
    if dead and verb not in _DEAD_OK:
        return Plan(DEAD_REPLY, code=511, result=DEAD_RESULT)
    minimum, usage = _USAGE.get(verb, (0, ""))
    if len(args) < minimum:
        reply = (
            f"520-Invalid command syntax.  Proper usage follows:\n{usage}\n520 End of proper usage."
        )
        return Plan(reply, code=520, result="Usage")
    if verb is Verb.ANSWER:
        return Plan("200 result=0")
    if verb is Verb.HANGUP:
        return Plan("200 result=1", hangs_up=True)
    if verb is Verb.CHANNEL_STATUS:
        return Plan("200 result=6")
    if verb is Verb.GET_VARIABLE:
        name = args[0]
        value = resolve(name)
        return Plan(f"200 result=1 ({value})" if value is not None else "200 result=0")
    if verb is Verb.GET_FULL_VARIABLE:
        return Plan(f"200 result=1 ({substitute(args[0], resolve)})")
    if verb is Verb.SET_VARIABLE:
        return Plan("200 result=1", sets=((args[0], args[1]),))
    if verb in (
        Verb.VERBOSE,
        Verb.SET_CALLERID,
        Verb.DATABASE_PUT,
        Verb.DATABASE_DEL,
        Verb.DATABASE_DELTREE,
    ):
        return Plan("200 result=1")
    if verb in (Verb.STREAM_FILE, Verb.CONTROL_STREAM_FILE):
        start = _int(_arg(args, 2), 0) if verb is Verb.STREAM_FILE else 0
        samples = sound_samples(args[0])
        seconds = max(0.0, (samples - start) / SAMPLE_RATE)
        plan, _ = _media(keypad, seconds, args[1], start, samples)
        if verb is Verb.CONTROL_STREAM_FILE:  # no endpos in its replies
            plan = replace(plan, reply=plan.reply.split(" endpos=")[0], playback=None)
        return plan
    if verb is Verb.GET_OPTION:
        samples = sound_samples(args[0])
        wait = _int(_arg(args, 2), 5000) / 1000
        prompt = samples / SAMPLE_RATE
        plan, _ = _media(keypad, prompt + max(0.0, wait), args[1], 0, samples)
        return replace(plan, playback=None)
    if verb is Verb.GET_DATA:
        prompt = sound_samples(args[0]) / SAMPLE_RATE
        timeout = _int(_arg(args, 1), 0) / 1000 or 6.0
        max_digits = _int(_arg(args, 2), 1024)
        key, after = keypad.take()
        if key is not None and keypad.delay <= prompt + timeout:
            if max_digits <= 1 or key == "#":
                return Plan(
                    f"200 result={key}",
                    keypad.delay,
                    after,
                    key,
                    keypad.delay,
                    interrupt_fails=False,
                )
            return Plan(
                f"200 result={key} (timeout)",
                keypad.delay + timeout,
                after,
                key,
                keypad.delay,
                interrupt_fails=False,
            )
        return Plan("200 result= (timeout)", prompt + timeout, interrupt_fails=False)
    if verb is Verb.WAIT_FOR_DIGIT:
        wait_ms = _int(args[0], -1)
        limit = math.inf if wait_ms < 0 else wait_ms / 1000
        key, after = keypad.take()
        if key is not None and keypad.delay <= limit:
            return Plan(f"200 result={ord(key)}", keypad.delay, after, key, keypad.delay)
        return Plan("200 result=0", limit)
    if verb in (Verb.SAY_DIGITS, Verb.SAY_NUMBER):
        spoken = [ch for ch in args[0] if ch.isalnum()]
        return Plan("200 result=0", max(1, len(spoken)) * _SAY_DIGIT_SECONDS)
    if verb in (Verb.SAY_ALPHA, Verb.SAY_PHONETIC):
        return Plan("200 result=0", max(1, len(args[0])) * 0.6)
    if verb in (Verb.SAY_DATE, Verb.SAY_TIME, Verb.SAY_DATETIME):
        return Plan("200 result=0", 2.0)
    # NOOP, EXEC, ASYNCAGI BREAK, SET CONTEXT/EXTENSION/PRIORITY/AUTOHANGUP/MUSIC, DATABASE GET
    return Plan("200 result=0")
