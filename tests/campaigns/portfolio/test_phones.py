"""Phone normalisation: the fast path agrees with phonenumbers' own parser, and candidate zones
carry the override table's corrections."""

from __future__ import annotations

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from campaigns.enums import LineType
from campaigns.portfolio.phones import PhoneNormaliser, candidate_zones
from campaigns.portfolio.values import ValueProblem

COUNTRIES = ["MX", "CO", "PE", "CL", "US"]


def reference(text: str, country: str) -> str | None:
    """What the library alone says: the E.164 of a valid number of `country`, else None."""
    try:
        number = phonenumbers.parse(text, country)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    if phonenumbers.region_code_for_number(number) != country:
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


@settings(max_examples=400)
@given(
    country=st.sampled_from(COUNTRIES),
    digits=st.text(alphabet="0123456789", min_size=7, max_size=13),
    style=st.sampled_from(["plain", "spaced", "plus"]),
)
def test_fast_path_agrees_with_the_library(country: str, digits: str, style: str) -> None:
    text = {"plain": digits, "spaced": f"{digits[:3]} {digits[3:]}", "plus": f"+{digits}"}[style]
    expected = reference(text, country)
    try:
        got = PhoneNormaliser(country).normalise(text).e164
    except ValueProblem:
        got = None
    # Toll-free and premium numbers are valid to the library but not a person's line.
    if expected is not None and got is None:
        kind = phonenumbers.number_type(phonenumbers.parse(text, country))
        assert kind not in (
            phonenumbers.PhoneNumberType.MOBILE,
            phonenumbers.PhoneNumberType.FIXED_LINE,
            phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
        ), text
        return
    assert got == expected, text


@pytest.mark.parametrize(
    ("country", "text", "e164"),
    [
        ("MX", "(55) 1234-5678", "+525512345678"),
        ("MX", "+52 1 55 1234 5678", None),  # the old mobile "1" is gone since 2019
        ("MX", "52 5512345678", "+525512345678"),
        ("CL", "56 9 2096 0009", "+56920960009"),
        ("CO", "300 123 4567", "+573001234567"),
        ("PE", "987 654 321", "+51987654321"),
        ("US", "(212) 555-0143", "+12125550143"),
        ("US", "(202) 456-1111", "+12024561111"),
    ],
)
def test_formats_seen_in_exports(country: str, text: str, e164: str | None) -> None:
    normaliser = PhoneNormaliser(country)
    if e164 is None:
        with pytest.raises(ValueProblem):
            normaliser.normalise(text)
    else:
        assert normaliser.normalise(text).e164 == e164


def test_foreign_toll_free_and_garbage_numbers_say_why() -> None:
    mx = PhoneNormaliser("MX")
    with pytest.raises(ValueProblem, match="phone number of US, not of the portfolio's country MX"):
        mx.normalise("+1 202 456 1111")
    with pytest.raises(ValueProblem, match="toll-free"):
        mx.normalise("800 123 4567")
    with pytest.raises(ValueProblem, match="not a valid MX phone number"):
        mx.normalise("12345")
    with pytest.raises(ValueProblem, match="not a phone number"):
        mx.normalise("llamar a casa")


def test_mexican_traps_get_their_true_zones() -> None:
    mx = PhoneNormaliser("MX")
    chihuahua = mx.normalise("6141234567")
    assert "America/Chihuahua" in chihuahua.zones
    assert ("America/Chihuahua", "prefix_override:+52614") in chihuahua.zone_sources
    assert "America/Matamoros" in mx.normalise("8681234567").zones
    us = PhoneNormaliser("US")
    assert "America/Chicago" in us.normalise("850 555 1234".replace("555", "321")).zones


def test_line_hint_only_fills_what_the_library_cannot_tell() -> None:
    mx = PhoneNormaliser("MX")
    assert mx.normalise("5512345678", LineType.MOBILE).line_type is LineType.MOBILE
    assert mx.normalise("5512345678").line_type is LineType.UNKNOWN


def test_candidate_zones_merge_phone_and_address_sources() -> None:
    key = PhoneNormaliser("MX").normalise("6141234567").zone_key
    zones, zones_json, sources = candidate_zones(key, ("America/Chihuahua",), "address:MX-CHH")
    assert zones == ("America/Mazatlan", "America/Chihuahua")
    assert zones_json == '["America/Mazatlan","America/Chihuahua"]'
    assert '"America/Chihuahua":["prefix_override:+52614","address:MX-CHH"]' in sources
