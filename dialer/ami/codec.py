"""AMI framing, sans-I/O: bytes in, messages out; actions in, UTF-8 bytes out.

Asterisk ends every line with CRLF and every message with an empty line; the greeting banner is a
lone line. Frames are cut on bytes and only then decoded, so a multi-byte character split across
two TCP reads survives (panoramisk 1.4 decodes each read on its own and loses it).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from dialer.errors import AmiProtocolError

__all__ = ["BANNER_PREFIX", "AmiMessage", "AmiParser", "encode_action", "encode_message"]

BANNER_PREFIX = "Asterisk Call Manager/"
_HeaderValue = str | int | Sequence[str]


@dataclass(frozen=True, slots=True)
class AmiMessage:
    """One AMI message: its headers in wire order (a header may repeat, e.g. `Variable`)."""

    headers: tuple[tuple[str, str], ...]
    malformed: tuple[str, ...] = ()
    # Lower-cased name → first value, built on the first lookup (a message is read many times).
    _index: dict[str, str] | None = field(default=None, init=False, repr=False, compare=False)

    def get(self, name: str, default: str | None = None) -> str | None:
        """The first value of a header, matched without regard to case."""
        index = self._index
        if index is None:
            index = {}
            for key, value in self.headers:
                index.setdefault(key.lower(), value)
            object.__setattr__(self, "_index", index)
        return index.get(name.lower(), default)

    def __getitem__(self, name: str) -> str:
        value = self.get(name)
        if value is None:
            raise KeyError(name)
        return value

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.get(name) is not None

    def getall(self, name: str) -> list[str]:
        """Every value of a repeated header, in order."""
        lowered = name.lower()
        return [value for key, value in self.headers if key.lower() == lowered]

    @property
    def event(self) -> str | None:
        headers = self.headers  # Asterisk writes it first: no index needed for most messages
        if headers and headers[0][0] == "Event":
            return headers[0][1]
        return self.get("Event")

    @property
    def response(self) -> str | None:
        headers = self.headers
        if headers and headers[0][0] == "Response":
            return headers[0][1]
        return self.get("Response")

    @property
    def action_id(self) -> str | None:
        return self.get("ActionID")

    def to_dict(self) -> dict[str, str]:
        """Headers as a dict (first value wins), for storing an event's payload."""
        out: dict[str, str] = {}
        for key, value in self.headers:
            out.setdefault(key, value)
        return out

    @classmethod
    def of(cls, *pairs: tuple[str, str | int], **headers: str | int) -> AmiMessage:
        """Build a message from pairs and keywords (keywords keep their order after the pairs)."""
        items = [(k, str(v)) for k, v in pairs] + [(k, str(v)) for k, v in headers.items()]
        return cls(tuple(items))

    def render(self) -> str:
        """The message as it travels (CRLF line ends, empty line at the end)."""
        return "".join(f"{k}: {v}\r\n" for k, v in self.headers) + "\r\n"


class AmiParser:
    """Incremental AMI parser. `feed(bytes)` returns the complete messages the bytes finished.

    The first line of a connection is the banner (`Asterisk Call Manager/11.0.0`) when `banner`
    is true (client side); it is returned once through `banner`.
    """

    def __init__(self, *, expect_banner: bool = True) -> None:
        self._buffer = bytearray()
        self._expect_banner = expect_banner
        self.banner: str | None = None

    def feed(self, data: bytes) -> list[AmiMessage]:
        self._buffer += data
        messages: list[AmiMessage] = []
        if self._expect_banner:
            end = self._buffer.find(b"\n")
            if end < 0:
                return messages
            line = bytes(self._buffer[:end]).decode("utf-8", "replace").strip()
            del self._buffer[: end + 1]
            if not line.startswith(BANNER_PREFIX):
                raise AmiProtocolError(
                    f"the server greeted with {line[:60]!r}, not an Asterisk Manager banner; "
                    "check the AMI host and port"
                )
            self.banner = line
            self._expect_banner = False
        for frame in self._frames():
            message = parse_frame(frame)
            if message is not None:
                messages.append(message)
        return messages

    def _frames(self) -> Iterator[bytes | bytearray]:
        buffer = self._buffer
        if b"\n\n" not in buffer:
            # Asterisk's own framing (CRLF CRLF only): one split, not a search per frame.
            *frames, rest = buffer.split(b"\r\n\r\n")
            if frames:
                del buffer[: len(buffer) - len(rest)]
                yield from frames
            return
        yield from scan_frames(buffer)


def scan_frames(buffer: bytearray) -> Iterator[bytes]:
    """Cut frames at the first empty line (CRLF CRLF, or a bare LF LF) one after the other."""
    while True:
        crlf = buffer.find(b"\r\n\r\n")
        lf = buffer.find(b"\n\n")
        if crlf < 0 and lf < 0:
            return
        if lf >= 0 and (crlf < 0 or lf < crlf):
            end, size = lf, 2
        else:
            end, size = crlf, 4
        frame = bytes(buffer[:end])
        del buffer[: end + size]
        yield frame


# A well-formed header line: a name with no colon and no space at either end, a colon, at most
# one space (dropped), the value; CRs at the end of the line are not part of it.
_HEADER_LINE = re.compile(r"^([^:\s](?:[^:\r\n]*[^:\s])?): ?([^\r\n]*)\r*$", re.MULTILINE)


def parse_frame(frame: bytes | bytearray) -> AmiMessage | None:
    """One message from its bytes (without the terminating empty line); None when blank."""
    text = frame.decode("utf-8", "replace")
    found = _HEADER_LINE.findall(text)
    if found and len(found) == text.count("\n") + 1:  # every line is a header: the usual case
        return AmiMessage(tuple(found))
    return parse_lines(text)


def parse_lines(text: str) -> AmiMessage | None:
    """`parse_frame` line by line: blank lines skipped, lines that are no header kept apart."""
    headers: list[tuple[str, str]] = []
    malformed: list[str] = []
    for raw in text.split("\n"):
        line = raw.rstrip("\r")
        if not line.strip():
            continue
        key, sep, value = line.partition(":")
        if not sep or not key or key != key.strip():
            malformed.append(line)
            continue
        headers.append((key, value[1:] if value.startswith(" ") else value))
    if not headers and not malformed:
        return None
    return AmiMessage(tuple(headers), tuple(malformed))


def _pairs(
    headers: Mapping[str, _HeaderValue] | Iterable[tuple[str, str]],
) -> list[tuple[str, str]]:
    items = headers.items() if isinstance(headers, Mapping) else headers
    pairs: list[tuple[str, str]] = []
    for key, value in items:
        if isinstance(value, (list, tuple)):
            pairs.extend((key, str(v)) for v in value)
        else:
            pairs.append((key, str(value)))
    return pairs


def encode_message(headers: Mapping[str, _HeaderValue] | Iterable[tuple[str, str]]) -> bytes:
    """Headers as UTF-8 wire bytes. A CR or LF inside a value would inject headers: refused."""
    lines = []
    for key, value in _pairs(headers):
        if "\r" in value or "\n" in value or "\r" in key or "\n" in key or ":" in key:
            raise AmiProtocolError(
                f"AMI header {key!r} has a line break or a colon in its name or value; "
                "remove it (it would inject other headers)"
            )
        lines.append(f"{key}: {value}\r\n")
    return ("".join(lines) + "\r\n").encode("utf-8")


def encode_action(
    action: str, action_id: str, headers: Mapping[str, _HeaderValue] | None = None
) -> bytes:
    """An action as UTF-8 bytes: `Action`, `ActionID`, then the headers (lists repeat)."""
    pairs: list[tuple[str, str]] = [("Action", action), ("ActionID", action_id)]
    pairs += _pairs(headers or {})
    return encode_message(pairs)
