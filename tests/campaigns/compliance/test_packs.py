"""The policy-pack loader: bad packs are refused with file, line and reason; `extends` only
tightens; every shipped pack loads; the example agency pack makes Mexican decisions stricter."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from campaigns.compliance import (
    POLICY_DIR,
    Code,
    Contact,
    Event,
    EventKind,
    PolicyError,
    decide,
    load_policies,
)

EXAMPLE = POLICY_DIR / "examples" / "agency-stricter-mx.yaml"
SHIPPED = {
    "mx-common", "mx-condusef", "mx-profeco", "co-l2300", "us-fdcpa-regf", "us-tcpa", "us-ma",
    "us-ma-creditor",
    "pe-cpdc", "cl-l19496", "br-sp",
}  # fmt: skip

HOURS = """\
  - id: hours
    kind: window
    channels: all
    days: {mon: ["08:00-20:00"], tue: ["08:00-20:00"]}
    status: confirmed
    source: s
"""
CAP = """\
  - id: calls
    kind: cap
    channels: [voice_live]
    per: [person]
    counts: attempts
    max: 2
    window: {type: rolling, length: P7D}
    status: confirmed
    source: s
"""


def pack_text(pack_id: str, rules: str, *, extends: str = "", time: str | None = None) -> str:
    if time is None:
        time = "time:\n  zones: {use: [fixed], fixed: America/Lima}\n  end_margin: PT0S\n"
    return (
        "# a test pack\n"
        "schema: recaudo.policy/v1\n"
        f"id: {pack_id}\n"
        'version: "1"\n'
        + (f"extends: [{extends}]\n" if extends else "")
        + "applies_when: {debtor_country: PE}\n"
        'sources:\n  s: {url: "https://example.org/s"}\n' + time + "rules:\n" + rules
    )


def write(directory: Path, pack_id: str, text: str) -> Path:
    path = directory / f"{pack_id}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def line_of(text: str, needle: str) -> int:
    """1-based line of the first line containing `needle`."""
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def refused(directory: Path) -> str:
    with pytest.raises(PolicyError) as caught:
        load_policies(directory)
    return str(caught.value)


LIMA_MON_1930 = datetime(2026, 6, 2, 0, 30, tzinfo=UTC)  # Mon 1 Jun 2026 19:30 in Lima (UTC-5)
DEBTOR_PE = Contact(country="PE", zones=("America/Lima",), role="debtor", provenance="provided")

# -- one bad pack at a time: (rules or time, the line to blame, what the message says) ------------

# fmt: off
BAD_RULES = [
    pytest.param(HOURS + "  - id: bad\n    kind: teleport\n    status: policy\n", "- id: bad", "unknown rule kind 'teleport'", id="unknown-rule-kind"),
    pytest.param(HOURS.replace('tue: ["08:00-20:00"]', 'tue: ["08:00-25:00"]'), "- id: hours", "bad time range '08:00-25:00'", id="end-25:00"),
    pytest.param(HOURS.replace('tue: ["08:00-20:00"]', 'tue: ["25:00-26:00"]'), "- id: hours", "bad time range '25:00-26:00'", id="start-25:00"),
    pytest.param(HOURS.replace('tue: ["08:00-20:00"]', 'tue: ["08:60-20:00"]'), "- id: hours", "bad time range '08:60-20:00'", id="minute-60"),
    pytest.param(HOURS.replace('tue: ["08:00-20:00"]', 'tue: ["8:00-20:00"]'), "- id: hours", "bad time range '8:00-20:00'", id="not-HH:MM"),
    pytest.param(HOURS.replace('tue: ["08:00-20:00"]', 'tue: ["08:00-12:00", "11:00-14:00"]'), "- id: hours", "ranges overlap", id="overlapping-ranges"),
    pytest.param(HOURS.replace('mon: ["08:00-20:00"], ', 'all: ["08:00-12:00"], mon: ["11:30-13:00"], '), "- id: hours", "ranges overlap", id="overlap-between-all-and-mon"),
    pytest.param(HOURS.replace('tue: ["08:00-20:00"]', 'tue: ["10:00-10:00"]'), "- id: hours", "bad time range '10:00-10:00'", id="empty-window"),
    pytest.param(HOURS.replace('tue: ["08:00-20:00"]', 'tue: ["20:00-08:00"]'), "- id: hours", "bad time range '20:00-08:00'", id="reversed-window"),
    pytest.param(HOURS.replace('tue: ["08:00-20:00"]', 'tuesday: ["08:00-20:00"]'), "- id: hours", "unknown day", id="unknown-weekday"),
    pytest.param(HOURS + CAP.replace("max: 2", "max: 0"), "- id: calls", "max must be a whole number ≥ 1 (got 0)", id="cap-max-0"),
    pytest.param(HOURS + CAP.replace("max: 2", "max: -1"), "- id: calls", "max must be a whole number ≥ 1", id="cap-max-negative"),
    pytest.param(HOURS + CAP.replace("max: 2", "max: true"), "- id: calls", "max must be a whole number ≥ 1", id="cap-max-bool"),
    pytest.param(HOURS + CAP.replace("length: P7D", "length: a week"), "- id: calls", "is not an ISO 8601 duration", id="cap-bad-duration"),
    pytest.param(HOURS.replace("source: s", "source: nowhere"), "- id: hours", "source 'nowhere' is not among the pack's sources", id="unknown-source"),
    pytest.param(HOURS.replace("    source: s\n", ""), "- id: hours", "a law rule needs a source", id="law-rule-without-source"),
    pytest.param(HOURS.replace("status: confirmed", "status: maybe"), "- id: hours", "status must be confirmed, uncertain or policy", id="bad-status"),
    pytest.param(HOURS.replace("channels: all", "channels: [voice_live, fax]"), "- id: hours", "unknown channel(s) ['fax']", id="unknown-channel"),
    pytest.param(HOURS.replace("channels: all", "channels: all\n    colour: red"), "- id: hours", "unknown key(s) colour", id="unknown-rule-key"),
    pytest.param(HOURS + HOURS, "- id: hours", "rule id 'hours' appears twice", id="duplicate-rule-id"),
]
# fmt: on


@pytest.mark.parametrize(("rules", "blame", "says"), BAD_RULES)
def test_bad_rule_is_refused_with_file_line_and_reason(
    tmp_path: Path, rules: str, blame: str, says: str
) -> None:
    text = pack_text("bad", rules)
    path = write(tmp_path, "bad", text)
    message = refused(tmp_path)
    line = line_of(text, blame) if says != "rule id 'hours' appears twice" else None
    if line is None:  # the second `hours` is blamed
        line = [i for i, x in enumerate(text.splitlines(), 1) if "- id: hours" in x][1]
    assert message.startswith(f"{path}:{line}: "), message
    assert says in message


def test_unknown_zone_in_time_zones_fixed(tmp_path: Path) -> None:
    time = "time:\n  zones: {use: [fixed], fixed: America/Atlantis}\n"
    text = pack_text("bad", HOURS, time=time)
    path = write(tmp_path, "bad", text)
    message = refused(tmp_path)
    assert message.startswith(f"{path}:{line_of(text, 'zones:')}: "), message
    assert "unknown time zone 'America/Atlantis'" in message


@pytest.mark.parametrize(
    ("time", "blame", "says"),
    [
        pytest.param("time:\n  zones: {use: [gps]}\n", "zones:", "time.zones.use", id="unknown-zone-source"),
        pytest.param("time:\n  zones: {use: [address], unknown: guess}\n", "zones:", "country_all_zones or deny", id="unknown-fallback"),
        pytest.param("time:\n  zones: {use: [address], ambiguity: first}\n", "zones:", "only all_candidates", id="ambiguity-not-all"),
    ],
)  # fmt: skip
def test_bad_time_section(tmp_path: Path, time: str, blame: str, says: str) -> None:
    text = pack_text("bad", HOURS, time=time)
    path = write(tmp_path, "bad", text)
    message = refused(tmp_path)
    assert message.startswith(f"{path}:{line_of(text, blame)}: "), message
    assert says in message


def test_pack_id_must_match_file_name(tmp_path: Path) -> None:
    path = write(tmp_path, "other-name", pack_text("bad", HOURS))
    message = refused(tmp_path)
    # The top-level mapping starts on line 2, after the comment line.
    assert message.startswith(f"{path}:2: "), message
    assert "'bad' must equal the file name 'other-name'" in message


def test_not_yaml_names_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "bad", "schema: [unclosed\n")
    message = refused(tmp_path)
    assert message.startswith(f"{path}: not valid YAML"), message


# -- extends -------------------------------------------------------------------------------------


@pytest.fixture
def with_parent(tmp_path: Path) -> Path:
    """A directory holding `parent` (hours Mon–Tue 08:00–20:00, 2 calls a week, margin 10 min)."""
    time = "time:\n  zones: {use: [fixed], fixed: America/Lima}\n  end_margin: PT10M\n"
    write(tmp_path, "parent", pack_text("parent", HOURS + CAP, time=time))
    return tmp_path


@pytest.mark.parametrize(
    ("rules", "says"),
    [
        pytest.param(HOURS.replace('mon: ["08:00-20:00"]', 'mon: ["07:00-20:00"]'), "its mon hours are not inside the parent's", id="earlier-start"),
        pytest.param(HOURS.replace('tue: ["08:00-20:00"]', 'tue: ["08:00-20:00"], sat: ["09:00-12:00"]'), "its sat hours are not inside the parent's", id="extra-day"),
        pytest.param(HOURS.replace("channels: all", "channels: [voice_live]"), "it covers fewer channels", id="fewer-channels"),
        pytest.param(CAP.replace("max: 2", "max: 3"), "its max 3 is above the parent's 2", id="higher-cap"),
        pytest.param(CAP.replace("length: P7D", "length: P1D"), "its window is shorter", id="shorter-cap-window"),
        pytest.param(CAP.replace("per: [person]", "per: [person, debt]"), "narrower scope", id="narrower-cap-scope"),
        pytest.param(CAP.replace("kind: cap", "kind: min_gap").replace("    per: [person]\n    counts: attempts\n    max: 2\n    window: {type: rolling, length: P7D}\n", "    per: [person]\n    gap: PT48H\n"), "it changes the rule kind (cap → min_gap)", id="other-kind"),
    ],
)  # fmt: skip
def test_child_that_would_loosen_is_refused(with_parent: Path, rules: str, says: str) -> None:
    time = "time:\n  zones: {use: [fixed], fixed: America/Lima}\n  end_margin: PT10M\n"
    text = pack_text("child", rules, extends="parent", time=time)
    path = write(with_parent, "child", text)
    message = refused(with_parent)
    assert message.startswith(f"{path}:{line_of(text, '- id: ')}: "), message
    assert "would loosen the inherited rule" in message
    assert says in message


def test_child_with_a_shorter_end_margin_is_refused(with_parent: Path) -> None:
    text = pack_text("child", HOURS, extends="parent")  # end_margin PT0S < the parent's PT10M
    path = write(with_parent, "child", text)
    message = refused(with_parent)
    assert str(path) in message
    assert "end_margin is shorter than parent's: it would loosen it" in message


def test_stricter_child_loads_and_decides_stricter(with_parent: Path) -> None:
    rules = HOURS.replace('mon: ["08:00-20:00"]', 'mon: ["09:00-18:00"]') + CAP.replace(
        "max: 2", "max: 1"
    )
    time = "time:\n  zones: {use: [fixed], fixed: America/Lima}\n  end_margin: PT15M\n"
    write(with_parent, "child", pack_text("child", rules, extends="parent", time=time))
    policies = load_policies(with_parent)
    parent, child = policies.select(["parent"]), policies.select(["child"])
    # Mon 19:30 Lima: inside the parent's window (margin 10 min), outside the child's.
    assert decide(DEBTOR_PE, "voice_live", LIMA_MON_1930, (), parent).allowed
    d = decide(DEBTOR_PE, "voice_live", LIMA_MON_1930, (), child)
    assert [(r.code, r.pack, r.rule) for r in d.reasons] == [(Code.WINDOW_CLOSED, "child", "hours")]
    assert d.next_allowed_at == datetime(2026, 6, 2, 13, 0, tzinfo=UTC)  # Tue 08:00 Lima
    # One call this week: the parent allows a second, the child does not.
    one_call = (Event(EventKind.ATTEMPT, datetime(2026, 6, 1, 14, 0, tzinfo=UTC), "voice_live"),)
    monday_10 = datetime(2026, 6, 1, 16, 0, tzinfo=UTC)  # Mon 11:00 Lima
    assert decide(DEBTOR_PE, "voice_live", monday_10, one_call, parent).allowed
    d = decide(DEBTOR_PE, "voice_live", monday_10, one_call, child)
    assert [(r.code, r.rule) for r in d.reasons] == [(Code.CAP_EXCEEDED, "calls")]
    # Selected together, the stricter rule decides and the inherited rules are not repeated.
    both = decide(DEBTOR_PE, "voice_live", LIMA_MON_1930, (), policies.select(["parent", "child"]))
    assert [(r.pack, r.rule) for r in both.reasons] == [("child", "hours")]


def test_child_without_time_inherits_the_parents_time(with_parent: Path) -> None:
    # config/policies/README.md: a child inherits its parent's `time` unless it gives its own —
    # here the fixed Lima zone and the 10-minute end margin.
    text = pack_text(
        "child", HOURS.replace("id: hours", "id: more-hours"), extends="parent", time=""
    )
    write(with_parent, "child", text)
    child = load_policies(with_parent).select(["child"])
    nowhere = Contact(country=None, role="debtor", provenance="provided")  # only a fixed zone works
    mon_1949, mon_1950 = (  # Mon 1 Jun 2026, 19:49 and 19:50 in Lima
        datetime(2026, 6, 2, 0, 49, tzinfo=UTC),
        datetime(2026, 6, 2, 0, 50, tzinfo=UTC),
    )
    assert decide(nowhere, "voice_live", mon_1949, (), child).allowed
    d = decide(nowhere, "voice_live", mon_1950, (), child)
    assert sorted((r.code, r.rule, r.zone) for r in d.reasons) == [
        (Code.WINDOW_CLOSED, "hours", "America/Lima"),
        (Code.WINDOW_CLOSED, "more-hours", "America/Lima"),
    ]


def test_cycle_in_extends_is_refused(tmp_path: Path) -> None:
    text = pack_text("a", HOURS, extends="b")
    a = write(tmp_path, "a", text)
    b = write(tmp_path, "b", pack_text("b", HOURS, extends="a"))
    message = refused(tmp_path)
    line = line_of(text, "schema:")  # the pack's mapping (the same line in both files)
    assert message.startswith((f"{a}:{line}: extends: ", f"{b}:{line}: extends: ")), message
    assert "forms a cycle: a → b → a" in message


def test_self_extends_is_a_cycle(tmp_path: Path) -> None:
    text = pack_text("a", HOURS, extends="a")
    path = write(tmp_path, "a", text)
    message = refused(tmp_path)
    assert message.startswith(f"{path}:{line_of(text, 'schema:')}: extends: "), message
    assert "forms a cycle: a → a" in message


def test_extends_unknown_pack_is_refused(tmp_path: Path) -> None:
    text = pack_text("a", HOURS, extends="nowhere")
    path = write(tmp_path, "a", text)
    message = refused(tmp_path)
    assert message.startswith(f"{path}:{line_of(text, 'schema:')}: extends: "), message
    assert "unknown pack 'nowhere'" in message


@pytest.mark.parametrize(
    ("looser", "says"),
    [
        pytest.param("    exclude: [not_connected]\n", "no longer counts calls that did not connect", id="exclude-not-connected"),
        pytest.param("    active_after: two_way_contact\n", "applies only after two_way_contact", id="active-after-two-way"),
        pytest.param("    line_types: [mobile]\n", "applies to fewer line types", id="only-mobile-lines"),
        pytest.param("    when_no_consent: true\n", "applies only without consent", id="only-without-consent"),
    ],
)  # fmt: skip
def test_child_cap_that_counts_less_is_refused(with_parent: Path, looser: str, says: str) -> None:
    # A cap with the same max that counts fewer events, or applies only sometimes, is looser.
    time = "time:\n  zones: {use: [fixed], fixed: America/Lima}\n  end_margin: PT10M\n"
    rules = CAP.replace("    status: confirmed\n", looser + "    status: confirmed\n")
    text = pack_text("child", rules, extends="parent", time=time)
    path = write(with_parent, "child", text)
    message = refused(with_parent)
    assert message.startswith(f"{path}:{line_of(text, '- id: calls')}: "), message
    assert "would loosen the inherited rule" in message
    assert says in message


def test_inherited_rule_keeps_the_childs_margin_whatever_the_order(with_parent: Path) -> None:
    # zz-child extends parent (Mon–Tue 08:00–20:00, margin 10 min) with a 60-minute margin and no
    # rule of its own: at Mon 19:30 Lima no call may start under zz-child, even when the parent is
    # selected first (as for_contact() sorts by id). Was: a rule shared by several selected packs
    # was judged once, in the first pack's context, so the child's margin was lost.
    time = "time:\n  zones: {use: [fixed], fixed: America/Lima}\n  end_margin: PT60M\n"
    write(with_parent, "zz-child", pack_text("zz-child", "  []\n", extends="parent", time=time))
    policies = load_policies(with_parent)
    assert not decide(
        DEBTOR_PE, "voice_live", LIMA_MON_1930, (), policies.select(["zz-child"])
    ).allowed
    chosen = policies.for_contact("PE")
    assert [p.id for p in chosen] == ["parent", "zz-child"]
    assert not decide(DEBTOR_PE, "voice_live", LIMA_MON_1930, (), chosen).allowed


# -- the shipped packs and the example -------------------------------------------------------------


def test_every_shipped_pack_loads() -> None:
    policies = load_policies()
    assert set(policies.packs) == SHIPPED
    assert [p for p, pack in policies.packs.items() if pack.abstract] == ["mx-common"]
    for pack in policies.packs.values():
        assert pack.path.parent == POLICY_DIR
        assert pack.abstract or pack.applies_when.get("debtor_country")
        for rule in pack.rules:
            assert rule.status in ("confirmed", "uncertain", "policy")
            assert rule.source is not None or rule.status == "policy", f"{pack.id}/{rule.id}"
            assert rule.source is None or rule.source in pack.sources, f"{pack.id}/{rule.id}"


def test_inherited_rules_are_the_parents(tmp_path: Path) -> None:
    policies = load_policies()
    common = {r.id for r in policies.packs["mx-common"].rules}
    for child in ("mx-condusef", "mx-profeco"):
        assert common <= {r.id for r in policies.packs[child].rules}
    assert {r.id for r in policies.packs["us-fdcpa-regf"].rules} <= {
        r.id for r in policies.packs["us-ma"].rules
    }


def test_examples_are_not_loaded_by_default() -> None:
    assert "agency-stricter-mx" not in load_policies().packs


def test_abstract_and_unknown_packs_cannot_be_selected() -> None:
    policies = load_policies()
    with pytest.raises(PolicyError, match="abstract"):
        policies.select(["mx-common"])
    with pytest.raises(PolicyError, match="unknown pack 'xx-nowhere'"):
        policies.select(["xx-nowhere"])


def test_extra_pack_with_a_shipped_id_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "co-l2300", pack_text("co-l2300", HOURS))
    with pytest.raises(PolicyError, match="already loaded") as caught:
        load_policies(extra=[path])
    assert str(path) in str(caught.value)


def test_example_needs_its_parent(tmp_path: Path) -> None:
    shutil.copy(EXAMPLE, tmp_path / EXAMPLE.name)
    message = refused(tmp_path)
    assert message.startswith(f"{tmp_path / EXAMPLE.name}:"), message
    assert "extends: unknown pack 'mx-condusef'" in message


MX_DEBTOR = Contact(
    country="MX", phone="+525512345678", zones=("America/Mexico_City",),
    zone_sources=(("America/Mexico_City", "phone_prefix"),), role="debtor", provenance="provided",
    debt="D1", caller_id="+525511112222", account_status="active",
)  # fmt: skip


def mx_utc(day: int, hour: int, minute: int = 0) -> datetime:
    """Mexico City wall clock (UTC-6, no DST) on a June 2026 day, as UTC."""
    return datetime(2026, 6, day, tzinfo=UTC) + timedelta(hours=hour + 6, minutes=minute)


@pytest.mark.parametrize(
    ("at", "condusef", "agency"),
    [
        pytest.param(mx_utc(2, 7, 0), True, False, id="tue-0700"),  # agency opens at 09:00
        pytest.param(mx_utc(2, 8, 59), True, False, id="tue-0859"),
        pytest.param(mx_utc(2, 9, 0), True, True, id="tue-0900"),
        pytest.param(mx_utc(2, 18, 59), True, True, id="tue-1859"),  # last start: 20:00 − 60 min
        pytest.param(mx_utc(2, 19, 0), True, False, id="tue-1900"),
        pytest.param(mx_utc(2, 21, 59), True, False, id="tue-2159"),
        pytest.param(mx_utc(2, 22, 0), False, False, id="tue-2200"),
    ],
)
def test_example_agency_pack_makes_mx_stricter(at: datetime, condusef: bool, agency: bool) -> None:
    policies = load_policies(extra=[EXAMPLE])
    selected = policies.for_contact("MX", None, "financial", "third_party")
    assert [p.id for p in selected] == ["agency-stricter-mx", "mx-condusef"]
    assert (
        decide(MX_DEBTOR, "voice_live", at, (), policies.select(["mx-condusef"])).allowed
        is condusef
    )
    d = decide(MX_DEBTOR, "voice_live", at, (), selected)
    assert d.allowed is agency
    if not agency:
        rules = {(r.pack, r.rule) for r in d.reasons}
        assert ("agency-stricter-mx", "hours") in rules
        assert d.next_allowed_at is not None
        assert d.next_allowed_at.astimezone(UTC).hour == 15  # 09:00 Mexico City


def test_example_agency_margin_adds_to_the_campaign_margin() -> None:
    # Agency PT60M + campaign 15 min: the last start before 20:00 is 18:44.
    selected = load_policies(extra=[EXAMPLE]).for_contact("MX", None, "financial")
    margin = timedelta(minutes=15)
    assert decide(
        MX_DEBTOR, "voice_live", mx_utc(2, 18, 44), (), selected, end_margin=margin
    ).allowed
    d = decide(MX_DEBTOR, "voice_live", mx_utc(2, 18, 45), (), selected, end_margin=margin)
    assert [(r.pack, r.rule) for r in d.reasons] == [("agency-stricter-mx", "hours")]
    assert d.next_allowed_at == mx_utc(3, 9)


def test_example_agency_pack_caps_calls_at_two_a_day() -> None:
    policies = load_policies(extra=[EXAMPLE])
    two = tuple(
        Event(EventKind.ATTEMPT, mx_utc(2, h), "voice_live", "D1", connected=False) for h in (9, 10)
    )
    at = mx_utc(2, 12)
    assert decide(MX_DEBTOR, "voice_live", at, two, policies.select(["mx-condusef"])).allowed
    d = decide(MX_DEBTOR, "voice_live", at, two, policies.for_contact("MX", None, "financial"))
    assert [(r.code, r.pack, r.rule) for r in d.reasons] == [
        (Code.CAP_EXCEEDED, "agency-stricter-mx", "daily-cap")
    ]
    assert d.next_allowed_at == mx_utc(3, 9)  # tomorrow 09:00, the agency's opening


# -- rule options the shipped packs do not use yet -----------------------------------------------

ALL_DAY = """\
  - id: open
    kind: window
    channels: all
    days: {all: ["00:00-24:00"]}
    status: policy
"""


def test_calendar_week_cap_ends_at_local_monday_midnight_across_dst(tmp_path: Path) -> None:
    # Santiago starts DST on Sun 6 Sep 2026 (00:00 -04 → 01:00 -03): the week of Mon 31 Aug ends
    # at Mon 7 Sep 00:00 -03 = 03:00 UTC.
    cap = """\
  - id: weekly
    kind: cap
    channels: [sms]
    per: [person]
    counts: messages
    max: 1
    window: {type: calendar, unit: week, week_start: mon}
    status: policy
"""
    time = "time:\n  zones: {use: [fixed], fixed: America/Santiago}\n"
    write(tmp_path, "weekly", pack_text("weekly", ALL_DAY + cap, time=time))
    packs = load_policies(tmp_path).select(["weekly"])
    sent = (Event(EventKind.MESSAGE_SENT, datetime(2026, 9, 2, 14, 0, tzinfo=UTC), "sms"),)  # Wed
    sunday_noon = datetime(2026, 9, 6, 15, 0, tzinfo=UTC)  # Sun 12:00 -03
    d = decide(DEBTOR_PE, "sms", sunday_noon, sent, packs)
    assert [(r.code, r.rule, r.zone) for r in d.reasons] == [
        (Code.CAP_EXCEEDED, "weekly", "America/Santiago")
    ]
    assert d.next_allowed_at == datetime(2026, 9, 7, 3, 0, tzinfo=UTC)
    assert decide(DEBTOR_PE, "sms", datetime(2026, 9, 7, 3, 0, tzinfo=UTC), sent, packs).allowed


def test_holiday_extra_and_removed_dates(tmp_path: Path) -> None:
    block = """\
  - id: feriados
    kind: holiday_block
    calendar: {country: PE}
    channels: all
    extra_dates: [2026-06-02]
    removed_dates: [2026-07-28]
    status: policy
"""
    write(tmp_path, "hol", pack_text("hol", ALL_DAY + block))
    packs = load_policies(tmp_path).select(["hol"])
    extra = decide(DEBTOR_PE, "email", datetime(2026, 6, 2, 15, 0, tzinfo=UTC), (), packs)
    assert [(r.code, r.rule) for r in extra.reasons] == [(Code.HOLIDAY, "feriados")]
    assert extra.next_allowed_at == datetime(2026, 6, 3, 5, 0, tzinfo=UTC)  # Wed 00:00 Lima
    assert decide(DEBTOR_PE, "email", datetime(2026, 7, 28, 15, 0, tzinfo=UTC), (), packs).allowed
    assert not decide(
        DEBTOR_PE, "email", datetime(2026, 7, 29, 15, 0, tzinfo=UTC), (), packs
    ).allowed


def test_rolling_cooloff_after_a_two_way_contact(tmp_path: Path) -> None:
    rule = """\
  - id: pause
    kind: cooloff
    trigger: two_way_contact
    per: [person]
    blocks: [sms]
    until: {type: rolling, length: PT36H}
    status: policy
"""
    write(tmp_path, "pause", pack_text("pause", ALL_DAY + rule))
    packs = load_policies(tmp_path).select(["pause"])
    talked = datetime(2026, 6, 1, 14, 0, tzinfo=UTC)
    history = (Event(EventKind.TWO_WAY_CONTACT, talked, "voice_live"),)
    d = decide(DEBTOR_PE, "sms", talked + timedelta(hours=1), history, packs)
    assert [(r.code, r.rule) for r in d.reasons] == [(Code.COOLOFF_ACTIVE, "pause")]
    assert d.next_allowed_at == talked + timedelta(hours=36)
    assert decide(DEBTOR_PE, "voice_live", talked + timedelta(hours=1), history, packs).allowed


def test_unknown_zone_deny_refuses_a_contact_without_zones(tmp_path: Path) -> None:
    time = "time:\n  zones: {use: [phone_prefix, address], unknown: deny}\n"
    write(tmp_path, "strict-zones", pack_text("strict-zones", ALL_DAY, time=time))
    packs = load_policies(tmp_path).select(["strict-zones"])
    at = datetime(2026, 6, 2, 15, 0, tzinfo=UTC)
    d = decide(DEBTOR_PE, "sms", at, (), packs)  # zones but no zone sources: zones are used
    assert d.allowed
    nowhere = Contact(country="PE", role="debtor", provenance="provided")
    d = decide(nowhere, "sms", at, (), packs)  # the country is known, but `unknown: deny`
    assert [(r.code, r.rule) for r in d.reasons] == [(Code.ZONE_UNKNOWN, "zones")]
    assert d.next_allowed_at is None


# -- on_holiday: deny, or keep another weekday's hours ----------------------------------------

WEEK_AND_SUNDAY = """\
  - id: hours
    kind: window
    channels: all
    days: {mon: ["08:00-20:00"], tue: ["08:00-20:00"], sun: ["09:00-13:00"]}
    status: policy
"""
SUNDAY_HOURS_ON_HOLIDAYS = """\
  - id: feriados
    kind: holiday_block
    calendar: {country: PE}
    channels: all
    on_holiday: {use_day: sun}
    status: policy
"""
DENY_ON_HOLIDAYS = SUNDAY_HOURS_ON_HOLIDAYS.replace("{use_day: sun}", "deny")


def lima(day: int, hour: int, minute: int = 0) -> datetime:
    """June 2026 in Lima (UTC-5 all year)."""
    return datetime(2026, 6, day, hour + 5, minute, tzinfo=UTC)


def test_a_holiday_that_keeps_sunday_hours(tmp_path: Path) -> None:
    write(tmp_path, "hol", pack_text("hol", WEEK_AND_SUNDAY + SUNDAY_HOURS_ON_HOLIDAYS))
    packs = load_policies(tmp_path).select(["hol"])
    # Mon 29 Jun 2026 is San Pedro y San Pablo: Sunday's 09:00–13:00, not Monday's 08:00–20:00.
    assert not decide(DEBTOR_PE, "voice_live", lima(22, 8, 30), (), packs).reasons  # a Monday
    early = decide(DEBTOR_PE, "voice_live", lima(29, 8, 30), (), packs)
    assert [(r.code, r.rule) for r in early.reasons] == [(Code.WINDOW_CLOSED, "hours")]
    assert "horario del domingo" in early.reasons[0].detail_es
    assert "Sunday's hours" in early.reasons[0].detail_en
    assert early.next_allowed_at == lima(29, 9)
    assert decide(DEBTOR_PE, "voice_live", lima(29, 9), (), packs).allowed
    assert decide(DEBTOR_PE, "voice_live", lima(29, 12, 59), (), packs).allowed
    late = decide(DEBTOR_PE, "voice_live", lima(29, 13), (), packs)
    assert late.next_allowed_at == lima(30, 8)  # Tuesday keeps its own hours
    # The same pack with `deny`: the whole holiday is closed.
    write(tmp_path, "hol", pack_text("hol", WEEK_AND_SUNDAY + DENY_ON_HOLIDAYS))
    denied = decide(
        DEBTOR_PE, "voice_live", lima(29, 10), (), load_policies(tmp_path).select(["hol"])
    )
    assert [(r.code, r.rule) for r in denied.reasons] == [(Code.HOLIDAY, "feriados")]
    assert denied.next_allowed_at == lima(30, 8)


def test_a_holiday_that_keeps_a_closed_days_hours_is_closed(tmp_path: Path) -> None:
    rules = WEEK_AND_SUNDAY + SUNDAY_HOURS_ON_HOLIDAYS.replace("use_day: sun", "use_day: sat")
    write(tmp_path, "hol", pack_text("hol", rules))
    d = decide(DEBTOR_PE, "sms", lima(29, 10), (), load_policies(tmp_path).select(["hol"]))
    assert [(r.code, r.rule, r.zone) for r in d.reasons] == [
        (Code.HOLIDAY, "hours", "America/Lima")
    ]
    assert "sábado" in d.reasons[0].detail_es
    assert d.next_allowed_at == lima(30, 8)


_SUN = SUNDAY_HOURS_ON_HOLIDAYS


@pytest.mark.parametrize(
    ("parent", "rules", "says"),
    [
        pytest.param(None, WEEK_AND_SUNDAY + _SUN.replace("{use_day: sun}", "{use_day: funday}"), "on_holiday: give deny or {use_day: mon…sun}", id="unknown-day"),
        pytest.param(None, WEEK_AND_SUNDAY + _SUN.replace("{use_day: sun}", "close"), "on_holiday: give deny or {use_day: mon…sun} (got 'close')", id="not-deny"),
        pytest.param(None, WEEK_AND_SUNDAY + _SUN.replace("{use_day: sun}", "{use_day: sun, also: 1}"), "on_holiday: give deny or {use_day: mon…sun}", id="extra-key"),
        pytest.param(None, WEEK_AND_SUNDAY + _SUN.replace("channels: all", "channels: [sms]"), "on_holiday.use_day covers only some channels of window 'hours'", id="part-of-a-window"),
        pytest.param(WEEK_AND_SUNDAY + DENY_ON_HOLIDAYS, _SUN, "would loosen the inherited rule: it opens holidays with sun's hours where the parent closes them", id="child-opens-closed-holidays"),
    ],
)  # fmt: skip
def test_bad_on_holiday_is_refused(
    tmp_path: Path, parent: str | None, rules: str, says: str
) -> None:
    if parent is not None:
        write(tmp_path, "parent", pack_text("parent", parent))
    text = pack_text("hol", rules, extends="parent" if parent else "")
    path = write(tmp_path, "hol", text)
    message = refused(tmp_path)
    assert message.startswith(f"{path}:{line_of(text, '- id: feriados')}: "), message
    assert says in message


def test_a_child_may_close_the_parents_open_holidays(tmp_path: Path) -> None:
    write(tmp_path, "parent", pack_text("parent", WEEK_AND_SUNDAY + SUNDAY_HOURS_ON_HOLIDAYS))
    write(tmp_path, "child", pack_text("child", DENY_ON_HOLIDAYS, extends="parent"))
    policies = load_policies(tmp_path)
    assert decide(DEBTOR_PE, "sms", lima(29, 10), (), policies.select(["parent"])).allowed
    d = decide(DEBTOR_PE, "sms", lima(29, 10), (), policies.select(["child"]))
    assert [(r.code, r.pack, r.rule) for r in d.reasons] == [(Code.HOLIDAY, "child", "feriados")]


# -- channel_authorization: what no authorisations on record means --------------------------

AUTHORISED = """\
  - id: authorised
    kind: channel_authorization
    requires: debtor_authorized
    status: policy
"""


def test_channel_authorization_when_unknown(tmp_path: Path) -> None:
    write(tmp_path, "lax", pack_text("lax", ALL_DAY + AUTHORISED))
    strict = AUTHORISED.replace("status: policy", "when_unknown: deny\n    status: policy")
    write(tmp_path, "strict", pack_text("strict", ALL_DAY + strict))
    policies = load_policies(tmp_path)
    lax, tight = policies.select(["lax"]), policies.select(["strict"])
    sms_only = Contact(
        country="PE", zones=("America/Lima",), role="debtor", authorized_channels=frozenset({"sms"})
    )
    at = lima(2, 10)
    assert decide(DEBTOR_PE, "sms", at, (), lax).allowed  # nothing on record: not restricted
    d = decide(DEBTOR_PE, "sms", at, (), tight)
    assert [(r.code, r.rule) for r in d.reasons] == [(Code.CHANNEL_NOT_AUTHORIZED, "authorised")]
    assert "no record of the channels the debtor authorised" in d.reasons[0].detail_en
    assert d.next_allowed_at is None
    for packs in (lax, tight):  # on record: only those channels
        assert decide(sms_only, "sms", at, (), packs).allowed
        assert not decide(sms_only, "voice_live", at, (), packs).allowed


def test_bad_when_unknown_is_refused(tmp_path: Path) -> None:
    rules = AUTHORISED.replace("status: policy", "when_unknown: maybe\n    status: policy")
    text = pack_text("bad", ALL_DAY + rules)
    path = write(tmp_path, "bad", text)
    message = refused(tmp_path)
    assert message.startswith(f"{path}:{line_of(text, '- id: authorised')}: "), message
    assert "when_unknown: allow or deny (got 'maybe')" in message


def test_two_use_days_for_one_window_are_refused(tmp_path: Path) -> None:
    second = _SUN.replace("id: feriados", "id: puentes").replace("use_day: sun", "use_day: sat")
    text = pack_text("hol", WEEK_AND_SUNDAY + _SUN + second)
    path = write(tmp_path, "hol", text)
    message = refused(tmp_path)
    assert message.startswith(f"{path}:{line_of(text, '- id: puentes')}: "), message
    assert "window 'hours' would keep both sun's and sat's hours on holidays" in message
