"""The apology an abandoned debtor hears and the SMS queued after it (GSM 03.38 segments)."""

from __future__ import annotations

import pytest

from campaigns.followups import abandon_apology, abandon_sms, measure_sms


@pytest.mark.parametrize(
    ("body", "encoding", "segments"),
    [
        ("a" * 160, "GSM-7", 1),
        ("a" * 161, "GSM-7", 2),
        ("a" * 306, "GSM-7", 2),
        ("a" * 307, "GSM-7", 3),
        ("€" * 80, "GSM-7", 1),  # extension characters take two septets
        ("€" * 81, "GSM-7", 2),
        ("Peña, ¿cómo está?", "UCS-2", 1),  # ó is not in the GSM alphabet
        ("ó" * 70, "UCS-2", 1),
        ("ó" * 71, "UCS-2", 2),
        ("ó" * 134, "UCS-2", 2),
        ("😀" * 35, "UCS-2", 1),  # outside the BMP: two UTF-16 units each
        ("😀" * 36, "UCS-2", 2),
    ],
)
def test_segments(body: str, encoding: str, segments: int) -> None:
    measured = measure_sms(body)
    assert (measured.encoding, measured.segments) == (encoding, segments)


def test_the_apology_names_the_agency_and_reads_the_number_digit_by_digit() -> None:
    text = abandon_apology("Banco Cafetero", "+576015550101")
    assert "Banco Cafetero" in text
    assert "5 7 6 0 1 5 5 5 0 1 0 1" in text
    assert "no hay un asesor disponible" in text


def test_an_agency_without_a_name_is_still_identified() -> None:
    assert "despacho de cobranza" in abandon_apology("", "+525555550100")
    sms = abandon_sms(" ", "+525555550100")
    assert sms.body.startswith("su despacho de cobranza:")
    assert "+525555550100" in sms.body
    assert (sms.encoding, sms.segments) == ("UCS-2", 2)
