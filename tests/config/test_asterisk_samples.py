"""The sample Asterisk configuration in config/asterisk/ against what the code expects of Asterisk.

A small reader of Asterisk's config syntax (sections, templates, `key = value`, `key => value`,
`;` comments, `exten`/`same` lines) parses the samples; the tests check them against
`AsteriskConfig`, the AMI tracker, the backend's actions and the simulator's FastAGI default.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from dialer.ami.tracker import _INTERESTING as TRACKED_EVENTS
from dialer.backends.asterisk import AsteriskConfig
from dialer.sim.pbx.agi import parse_agi_url
from dialer.sim.pbx.simulator import LAB_AGI_URL

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "config" / "asterisk"
FILES = ("manager.conf", "extensions.conf", "confbridge.conf", "pjsip.conf")
CONFIG = AsteriskConfig(username="recaudo", secret="not-used")  # dummy credentials

# The AMI class (manager.c / app_confbridge.c) of each event the call tracker reads.
EVENT_CLASS = {
    "newchannel": "call",
    "newstate": "call",
    "dialstate": "call",
    "dialend": "call",
    "hangup": "call",
    "varset": "dialplan",
    "agiexecstart": "agi",
    "dtmfend": "dtmf",
    "confbridgejoin": "call",
    "bridgeenter": "call",
}
# The write classes that allow each action the backend sends (any one of them suffices).
ACTION_CLASSES = {
    "Originate": {"originate"},
    "Hangup": {"system", "call"},
    "Redirect": {"call"},
    "Bridge": {"call"},
    "CoreShowChannels": {"system", "reporting"},
}
# Write classes that would let the dialer's AMI user run CLI commands, edit files or stop Asterisk.
DANGEROUS_WRITE = {"all", "system", "command", "config"}
SECRET_KEYS = {"secret", "password", "md5_cred"}
PLACEHOLDER = re.compile(r"^CHANGE_ME$")


# -- the reader ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Section:
    """One `[name]` or `[name](options)` block; `entries` keep their order and repeats."""

    name: str
    template: bool
    bases: tuple[str, ...]
    entries: tuple[tuple[str, str], ...]

    def get(self, key: str) -> str | None:
        values = self.getall(key)
        return values[-1] if values else None

    def getall(self, key: str) -> list[str]:
        return [value for name, value in self.entries if name == key]


@dataclass(frozen=True)
class Step:
    """One dialplan priority: `exten => EXTEN,PRIORITY(label),App(args)`."""

    exten: str
    priority: str
    label: str | None
    app: str
    args: str

    @property
    def argv(self) -> list[str]:
        return [part.strip() for part in self.args.split(",")] if self.args else []


_SECTION = re.compile(r"^\[(?P<name>[^\]]+)\](?:\((?P<options>[^)]*)\))?$")
_ENTRY = re.compile(r"^(?P<key>[A-Za-z0-9_.-]+)\s*=>?\s*(?P<value>.*)$")
_STEP = re.compile(
    r"^(?P<exten>[^,]+),(?P<priority>[^,(]+)(?:\((?P<label>[^)]+)\))?,"
    r"(?P<app>[A-Za-z0-9_]+)(?:\((?P<args>.*)\))?$"
)


def strip_comment(line: str) -> str:
    """Drop everything from the first `;` that is not escaped as `\\;`."""
    out: list[str] = []
    i = 0
    while i < len(line):
        if line[i] == "\\" and i + 1 < len(line) and line[i + 1] == ";":
            out.append(";")
            i += 2
            continue
        if line[i] == ";":
            break
        out.append(line[i])
        i += 1
    return "".join(out).strip()


def parse(text: str) -> list[Section]:
    """Every section in file order (same-named sections stay separate, as pjsip.conf uses them)."""
    sections: list[Section] = []
    head: tuple[str, bool, tuple[str, ...]] | None = None  # name, template, bases
    entries: list[tuple[str, str]] = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = strip_comment(raw)
        if not line:
            continue
        if line.startswith("#"):
            raise ValueError(f"line {number}: #include/#exec are not used in the samples")
        section = _SECTION.match(line)
        if section:
            if head is not None:
                sections.append(Section(*head, tuple(entries)))
            options = [o.strip() for o in (section["options"] or "").split(",") if o.strip()]
            bases = tuple(o for o in options if o not in ("!", "+"))
            head, entries = (section["name"].strip(), "!" in options, bases), []
            continue
        entry = _ENTRY.match(line)
        if entry is None or head is None:
            raise ValueError(f"line {number}: not a section header or key = value: {raw!r}")
        entries.append((entry["key"].lower(), entry["value"].strip()))
    if head is not None:
        sections.append(Section(*head, tuple(entries)))
    return sections


def load(name: str) -> list[Section]:
    return parse((SAMPLES / name).read_text(encoding="utf-8"))


def resolve(sections: list[Section]) -> list[Section]:
    """Concrete sections with their templates' entries first (templates themselves dropped)."""
    templates = {s.name: s for s in sections if s.template}
    out: list[Section] = []
    for section in sections:
        if section.template:
            continue
        inherited: list[tuple[str, str]] = []
        for base in section.bases:
            if base not in templates:
                raise ValueError(f"[{section.name}] inherits from unknown template {base!r}")
            inherited.extend(templates[base].entries)
        out.append(Section(section.name, False, (), (*inherited, *section.entries)))
    return out


def typed(sections: list[Section], name: str, kind: str) -> Section | None:
    """The section `name` of `type = kind` (pjsip.conf and confbridge.conf style)."""
    found = [s for s in sections if s.name == name and s.get("type") == kind]
    assert len(found) <= 1, f"{len(found)} sections [{name}] of type {kind}"
    return found[0] if found else None


def dialplan(sections: list[Section]) -> dict[str, list[Step]]:
    """Context name → its steps, `same => n` resolved to the previous extension."""
    contexts: dict[str, list[Step]] = {}
    for section in sections:
        steps: list[Step] = []
        exten: str | None = None
        for key, value in section.entries:
            if key not in ("exten", "same"):
                continue
            text = value if key == "exten" else f"{exten},{value}"
            if key == "same" and exten is None:
                raise ValueError(f"[{section.name}]: `same =>` before any `exten =>`")
            match = _STEP.match(text)
            if match is None:
                raise ValueError(f"[{section.name}]: cannot read dialplan line {value!r}")
            exten = match["exten"].strip()
            steps.append(
                Step(
                    exten,
                    match["priority"].strip(),
                    match["label"],
                    match["app"],
                    match["args"] or "",
                )
            )
        contexts[section.name] = steps
    return contexts


def pattern_matches(pattern: str, exten: str) -> bool:
    """Asterisk extension matching: literal, or `_` with X Z N [..] . ! wildcards."""
    if not pattern.startswith("_"):
        return pattern == exten
    regex = ""
    i = 1
    while i < len(pattern):
        ch = pattern[i]
        if ch == "X":
            regex += "[0-9]"
        elif ch == "Z":
            regex += "[1-9]"
        elif ch == "N":
            regex += "[2-9]"
        elif ch == ".":
            regex += ".+"
        elif ch == "!":
            regex += ".*"
        elif ch == "[":
            end = pattern.index("]", i)
            regex += f"[{pattern[i + 1 : end]}]"
            i = end
        else:
            regex += re.escape(ch)
        i += 1
    return re.fullmatch(regex, exten) is not None


def apps(steps: list[Step], name: str) -> list[Step]:
    return [s for s in steps if s.app.lower() == name.lower()]


# -- fixtures ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def manager() -> list[Section]:
    return load("manager.conf")


@pytest.fixture(scope="module")
def extensions() -> dict[str, list[Step]]:
    return dialplan(load("extensions.conf"))


@pytest.fixture(scope="module")
def confbridge() -> list[Section]:
    return resolve(load("confbridge.conf"))


@pytest.fixture(scope="module")
def pjsip() -> list[Section]:
    return resolve(load("pjsip.conf"))


# -- the reader itself ---------------------------------------------------------------------------


def test_reader_understands_the_syntax_the_samples_use() -> None:
    text = (
        "; header\n"
        "[base](!)\ntype = endpoint ; trailing comment\nallow = alaw\n"
        "[trunk](base)\nallow = ulaw\nsecret = a\\;b\n"
        "[ivr]\nexten => s,1,NoOp(x, y)\n same => n(done),Hangup()\nexten => _1XXX,1,Wait(1)\n"
    )
    sections = parse(text)
    assert [(s.name, s.template, s.bases) for s in sections] == [
        ("base", True, ()),
        ("trunk", False, ("base",)),
        ("ivr", False, ()),
    ]
    trunk = resolve(sections)[0]
    assert trunk.get("type") == "endpoint"
    assert trunk.getall("allow") == ["alaw", "ulaw"]
    assert trunk.get("secret") == "a;b"
    steps = dialplan(sections)["ivr"]
    assert [(s.exten, s.priority, s.label, s.app, s.argv) for s in steps] == [
        ("s", "1", None, "NoOp", ["x", "y"]),
        ("s", "n", "done", "Hangup", []),
        ("_1XXX", "1", None, "Wait", ["1"]),
    ]
    assert pattern_matches("_1XXX", "1001")
    assert not pattern_matches("_1XXX", "2001")
    assert pattern_matches("_X.", "1001")
    assert not pattern_matches("_X.", "s")
    with pytest.raises(ValueError, match="not a section header"):
        parse("[a]\nthis is not a setting\n")


# -- every file ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", FILES)
def test_each_file_says_what_it_is_for_and_which_setting_it_matches(name: str) -> None:
    text = (SAMPLES / name).read_text(encoding="utf-8")
    header = []
    for line in text.splitlines():
        if not line.startswith(";"):
            break
        header.append(line)
    joined = " ".join(header)
    assert header, f"{name} starts without a header comment"
    assert "Recaudo" in joined
    assert "AsteriskConfig" in joined or "RECAUDO_" in joined


@pytest.mark.parametrize("name", FILES)
def test_no_file_holds_a_real_secret(name: str) -> None:
    text = (SAMPLES / name).read_text(encoding="utf-8")
    for section in parse(text):
        for key, value in section.entries:
            if key in SECRET_KEYS:
                assert PLACEHOLDER.match(value), (
                    f"{name} [{section.name}] {key} is not a placeholder"
                )
    for lab_secret in ("dialer-secret", "s3cret"):
        assert lab_secret not in text


# -- manager.conf --------------------------------------------------------------------------------


def _classes(value: str | None) -> set[str]:
    return {part.strip().lower() for part in (value or "").split(",") if part.strip()}


def test_ami_listens_on_loopback_at_the_port_the_backend_dials(manager: list[Section]) -> None:
    general = [s for s in manager if s.name == "general"]
    assert len(general) == 1
    assert general[0].get("enabled") == "yes"
    assert general[0].get("bindaddr") == CONFIG.host == "127.0.0.1"
    assert general[0].get("port") == str(CONFIG.port)
    assert general[0].get("displayconnects") == "no"
    assert general[0].get("webenabled") in (None, "no")


def test_the_one_ami_user_is_loopback_only(manager: list[Section]) -> None:
    users = [s for s in manager if s.name != "general"]
    assert [u.name for u in users] == ["recaudo"]
    rules = [(k, v) for k, v in users[0].entries if k in ("deny", "permit")]
    # The last matching rule wins: deny everything first, then allow loopback only.
    assert rules == [("deny", "0.0.0.0/0.0.0.0"), ("permit", "127.0.0.1/255.255.255.255")]


def test_ami_user_reads_every_event_the_tracker_follows(manager: list[Section]) -> None:
    user = next(s for s in manager if s.name == "recaudo")
    read = _classes(user.get("read"))
    unknown = set(TRACKED_EVENTS) - set(EVENT_CLASS)
    assert not unknown, f"the tracker follows {unknown}: add their AMI class here and to read ="
    assert {EVENT_CLASS[e] for e in TRACKED_EVENTS} <= read
    assert "system" in read  # FullyBooted after login, which panoramisk listens for
    assert "all" not in read


def test_ami_user_may_send_the_backends_actions_and_nothing_dangerous(
    manager: list[Section],
) -> None:
    source = (ROOT / "dialer" / "backends" / "asterisk.py").read_text(encoding="utf-8")
    # Actions are built as dicts ("Action": "Hangup") or header pairs (("Action", "Originate")).
    sent = set(re.findall(r'"Action"(?::|,) "(\w+)"', source))
    assert {"Originate", "Hangup", "Redirect", "CoreShowChannels"} <= sent
    user = next(s for s in manager if s.name == "recaudo")
    write = _classes(user.get("write"))
    for action in sent:
        assert action in ACTION_CLASSES, f"the backend sends {action}: add its write class here"
        assert ACTION_CLASSES[action] & write, f"write = {sorted(write)} does not allow {action}"
    assert not write & DANGEROUS_WRITE


# -- extensions.conf -----------------------------------------------------------------------------


def test_every_context_the_backend_names_exists(extensions: dict[str, list[Step]]) -> None:
    for context in (CONFIG.context, CONFIG.amd_context, CONFIG.bridge_context):
        assert extensions.get(context), f"[{context}] missing from extensions.conf"
    for context in (CONFIG.context, CONFIG.amd_context):  # Originate: Exten=s, Priority=1
        first = extensions[context][0]
        assert (first.exten, first.priority) == ("s", "1")
    # AsteriskBackend.bridge redirects to Exten=<agent extension>, Priority=1.
    bridge = extensions[CONFIG.bridge_context]
    assert any(pattern_matches(s.exten, "1001") and s.priority == "1" for s in bridge)


def test_the_ivr_hand_off_reaches_our_fastagi_default(extensions: dict[str, list[Step]]) -> None:
    expected = parse_agi_url(LAB_AGI_URL)
    for context in (CONFIG.context, CONFIG.amd_context):
        calls = apps(extensions[context], "AGI")
        assert calls, f"[{context}] never hands the call to the IVR"
        for step in calls:
            url = parse_agi_url(step.argv[0])
            assert url.host == "127.0.0.1"
            assert (url.port, url.script) == (expected.port, expected.script)


def test_ivr_amd_runs_amd_and_passes_its_verdict_on(extensions: dict[str, list[Step]]) -> None:
    steps = extensions[CONFIG.amd_context]
    names = [s.app.lower() for s in steps]
    assert "amd" in names
    after_amd = steps[names.index("amd") + 1 :]
    assert any("${AMDSTATUS}" in s.args for s in after_amd if s.app.lower() != "agi")
    agi_calls = apps(after_amd, "AGI")
    assert agi_calls
    assert names.index("amd") < names.index("agi")
    for step in agi_calls:  # the IVR reads them as agi_arg_1 / agi_arg_2, as the lab recorded
        assert step.argv[1:3] == ["${AMDSTATUS}", "${AMDCAUSE}"]
    branches = " ".join(s.args for s in apps(steps, "GotoIf"))
    assert '"MACHINE"' in branches


def test_every_goto_label_exists(extensions: dict[str, list[Step]]) -> None:
    for context, steps in extensions.items():
        labels = {s.label for s in steps if s.label}
        for step in apps(steps, "GotoIf"):
            targets = step.args.split("?", 1)[1].split(":")
            for target in (t.strip() for t in targets if t.strip()):
                assert target in labels, f"[{context}] GotoIf to unknown label {target!r}"


# -- confbridge.conf -----------------------------------------------------------------------------


def _confbridges(extensions: dict[str, list[Step]]) -> dict[str, list[list[str]]]:
    return {
        context: [s.argv for s in apps(steps, "ConfBridge")]
        for context, steps in extensions.items()
    }


def test_conference_profiles_used_by_the_dialplan_exist(
    extensions: dict[str, list[Step]], confbridge: list[Section]
) -> None:
    used = [argv for calls in _confbridges(extensions).values() for argv in calls]
    assert used
    for argv in used:
        assert len(argv) >= 3, f"ConfBridge({','.join(argv)}) without bridge and user profiles"
        for name, kind in zip(argv[1:4], ("bridge", "user", "menu"), strict=False):
            assert typed(confbridge, name, kind), f"no [{name}] type = {kind} in confbridge.conf"


def test_the_debtor_joins_the_agents_conference_quietly(
    extensions: dict[str, list[Step]], confbridge: list[Section]
) -> None:
    calls = _confbridges(extensions)
    debtor = calls[CONFIG.bridge_context]
    agents = [
        argv
        for context, found in calls.items()
        if context != CONFIG.bridge_context
        for argv in found
    ]
    assert len(debtor) == 1
    assert agents
    assert {argv[0] for argv in agents} == {debtor[0][0]}  # same conference name, agent-${EXTEN}
    debtor_user = typed(confbridge, debtor[0][2], "user")
    assert debtor_user is not None
    assert debtor_user.get("quiet") == "yes"
    assert debtor_user.get("end_marked") == "yes"
    assert debtor_user.get("marked") in (None, "no")
    for argv in agents:
        agent_user = typed(confbridge, argv[2], "user")
        assert agent_user is not None
        assert agent_user.get("marked") == "yes"
        assert agent_user.get("quiet") == "yes"


# -- pjsip.conf ----------------------------------------------------------------------------------


def test_the_trunk_is_the_endpoint_the_dial_template_names(
    pjsip: list[Section], extensions: dict[str, list[Step]]
) -> None:
    match = re.fullmatch(r"PJSIP/\{(?:number|digits)\}@(?P<endpoint>[\w-]+)", CONFIG.dial_template)
    assert match, CONFIG.dial_template
    endpoint = typed(pjsip, match["endpoint"], "endpoint")
    assert endpoint is not None, f"no [{match['endpoint']}] type = endpoint in pjsip.conf"
    for aor in (endpoint.get("aors") or "").split(","):
        assert typed(pjsip, aor.strip(), "aor"), f"endpoint aor {aor!r} is not defined"
    auth = endpoint.get("outbound_auth")
    assert auth is None or typed(pjsip, auth, "auth")
    transport = typed(pjsip, endpoint.get("transport") or "", "transport")
    assert transport is not None
    assert (transport.get("bind") or "").rsplit(":", 1)[0] == "127.0.0.1"
    assert endpoint.get("context") in extensions  # inbound calls land in a context we define
    assert endpoint.get("dtmf_mode") == "rfc4733"
    # A from_user would replace the rotated caller ID in the From header of every call.
    assert endpoint.get("from_user") is None
    identify = [s for s in pjsip if s.get("type") == "identify"]
    assert [s.get("endpoint") for s in identify] == [match["endpoint"]]
    for registration in (s for s in pjsip if s.get("type") == "registration"):
        assert typed(pjsip, registration.get("outbound_auth") or "", "auth")
