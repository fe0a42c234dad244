"""The AMI parser's fast paths give exactly what the line-by-line reading gives."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from dialer.ami.codec import AmiParser, parse_frame, parse_lines, scan_frames

_PIECES = st.sampled_from(
    [
        "Event",
        "Uniqueid",
        ": ",
        ":",
        " ",
        "\t",
        "\r\n",
        "\n",
        "\r",
        "a",
        "Peña",
        "1.5",
        ":x",
        "\xa0",
        "Value: ",
    ]
)
_TEXT = st.lists(_PIECES, max_size=30).map("".join)


@given(_TEXT)
def test_a_frame_reads_as_its_lines(text: str) -> None:
    assert parse_frame(text.encode("utf-8")) == parse_lines(text)


@given(st.lists(_TEXT, max_size=6), st.lists(st.integers(1, 40), max_size=8))
def test_frames_cut_the_same_in_any_chunks(texts: list[str], cuts: list[int]) -> None:
    data = "".join(t + "\r\n\r\n" for t in texts).encode("utf-8")
    expected = [m for m in map(parse_frame, scan_frames(bytearray(data))) if m is not None]
    parser = AmiParser(expect_banner=False)
    got = []
    at = 0
    for size in cuts:
        got += parser.feed(data[at : at + size])
        at += size
    got += parser.feed(data[at:])
    assert got == expected


def test_a_lookup_ignores_case_and_takes_the_first() -> None:
    message = parse_frame(b"Event: Hangup\r\nVariable: A=1\r\nvariable: B=2\r\nCause: 16")
    assert message is not None
    assert message.event == "Hangup"
    assert message.get("VARIABLE") == "A=1"
    assert message.getall("variable") == ["A=1", "B=2"]
    assert message.get("missing", "x") == "x"
    assert message == parse_lines("Event: Hangup\r\nVariable: A=1\r\nvariable: B=2\r\nCause: 16")
