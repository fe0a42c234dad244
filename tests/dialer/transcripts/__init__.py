"""Lab recordings of a real Asterisk 22.10.1 (copied from the project's shared notes) and a reader.

Each file is a list of records `[UTC time] (+seconds) CHANNEL DIRECTION` followed by the raw text;
`records()` returns them with the text restored to its wire form (CRLF line ends for AMI).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

__all__ = ["DIR", "Record", "ami_stream", "records"]

DIR = Path(__file__).parent
_HEADER = re.compile(
    r"^\[(?P<at>[^\]]+)\] \(\+(?P<offset>[0-9.]+)\) (?P<channel>AMI|AGI|NOTE)(?: (?P<direction>\S+))?"
)


@dataclass(frozen=True)
class Record:
    at: str
    offset: float
    channel: str  # AMI | AGI | NOTE
    direction: str  # e.g. "Asterisk->Dialer"
    text: str  # as shown in the file (LF line ends), without the trailing blank line

    @property
    def from_asterisk(self) -> bool:
        return self.direction.startswith("Asterisk->")

    def headers(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for line in self.text.split("\n"):
            key, sep, value = line.partition(": ")
            if sep:
                out.setdefault(key, []).append(value)
        return out


def records(name: str) -> list[Record]:
    """Every record of one transcript file, in file order."""
    lines = (DIR / name).read_text(encoding="utf-8").split("\n")
    out: list[Record] = []
    current: dict[str, str] | None = None
    body: list[str] = []

    def close() -> None:
        if current is not None:
            while body and not body[-1].strip():
                body.pop()
            out.append(
                Record(
                    current["at"],
                    float(current["offset"]),
                    current["channel"],
                    current.get("direction") or "",
                    "\n".join(body),
                )
            )

    for line in lines:
        if line.startswith("#") and current is None:
            continue
        match = _HEADER.match(line)
        if match:
            close()
            current = match.groupdict()
            body = []
        elif current is not None:
            body.append(line)
    close()
    return out


def ami_stream(name: str) -> bytes:
    """What the dialer's AMI socket received, as bytes on the wire (banner first)."""
    parts: list[str] = []
    for record in records(name):
        if record.channel != "AMI" or not record.from_asterisk:
            continue
        if "<-- banner line" in record.text:
            parts.append(record.text.split("   <--")[0].strip() + "\r\n")
        else:
            parts.append(record.text.replace("\n", "\r\n") + "\r\n\r\n")
    return "".join(parts).encode("utf-8")
