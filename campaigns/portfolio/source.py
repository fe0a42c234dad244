"""Reading a portfolio CSV: encoding (UTF-8 with or without BOM, else cp1252/Latin-1) and
separator (`,` `;` tab `|`) detected, rows streamed so a million-row file never sits in memory."""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import TextIO

from campaigns.portfolio.errors import SourceError

__all__ = ["CsvSource", "Span", "open_source"]

#: A batch of records: (file position for seek, row number of its first record, records).
Span = tuple[int, int, int]

_DELIMITERS = (",", ";", "\t", "|")
_SIGNATURES = {
    b"PK\x03\x04": "an Excel workbook or other zip archive (export it as CSV UTF-8)",
    b"\xd0\xcf\x11\xe0": "an old Excel workbook (.xls; export it as CSV UTF-8)",
    b"%PDF": "a PDF document, not a CSV",
    b"\xff\xfe": "UTF-16 text (save it as CSV UTF-8)",
    b"\xfe\xff": "UTF-16 text (save it as CSV UTF-8)",
}
csv.field_size_limit(1 << 20)


@dataclass(frozen=True, slots=True)
class CsvSource:
    path: Path
    encoding: str
    delimiter: str
    header: tuple[str, ...]
    sha256: str

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        """(spreadsheet row number, cells) for every non-blank data row; the header is row 1."""
        with self.path.open(encoding=self.encoding, newline="") as handle:
            reader = csv.reader(handle, delimiter=self.delimiter)
            next(reader, None)
            for number, cells in enumerate(reader, start=2):
                if cells and any(cells):
                    yield number, cells

    def spans(self, size: int) -> Iterator[tuple[Span, list[tuple[int, list[str]]]]]:
        """Every data row in batches of `size` records, each with its span (file position,
        first row number, records) so that another process can read that batch on its own."""
        with self.open() as handle:
            reader = csv.reader(_Lines(handle), delimiter=self.delimiter)
            next(reader, None)
            number = 2
            while True:
                start, first = handle.tell(), number
                batch = []
                for cells in islice(reader, size):
                    if cells and any(cells):
                        batch.append((number, cells))
                    number += 1
                if number == first:
                    return
                yield (start, first, number - first), batch

    def read_span(self, handle: TextIO, span: Span) -> list[tuple[int, list[str]]]:
        """The non-blank rows of one span, read from an open handle of this file."""
        start, first_number, records = span
        handle.seek(start)
        reader = csv.reader(_Lines(handle), delimiter=self.delimiter)
        rows = []
        for number, cells in enumerate(islice(reader, records), start=first_number):
            if cells and any(cells):
                rows.append((number, cells))
        return rows

    def open(self) -> TextIO:
        return self.path.open(encoding=self.encoding, newline="")


class _Lines:
    """Lines by readline(), so the file's tell() stays usable between csv records."""

    __slots__ = ("handle",)

    def __init__(self, handle: TextIO) -> None:
        self.handle = handle

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        line = self.handle.readline()
        if not line:
            raise StopIteration
        return line


def _check_bytes(path: Path) -> str:
    try:
        with path.open("rb") as handle:
            head = handle.read(65536)
            digest = hashlib.sha256(head)
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    except FileNotFoundError:
        raise SourceError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise SourceError(f"{path} is a folder, not a CSV file") from None
    except PermissionError:
        raise SourceError(f"{path}: permission denied") from None
    if not head.strip(b"\xef\xbb\xbf \r\n\t"):
        raise SourceError(f"{path} is empty")
    for signature, what in _SIGNATURES.items():
        if head.startswith(signature):
            raise SourceError(f"{path} is {what}")
    if b"\x00" in head:
        raise SourceError(f"{path} holds NUL bytes: it is binary or UTF-16, not a CSV in UTF-8")
    return digest.hexdigest()


def _detect_encoding(path: Path) -> str:
    """UTF-8 (BOM or not) if the whole file decodes as UTF-8, else cp1252, else Latin-1."""
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            with path.open(encoding=encoding, newline="") as handle:
                while handle.read(1 << 20):
                    pass
            return encoding
        except UnicodeDecodeError:
            continue
    return "latin-1"


def _detect_delimiter(path: Path, encoding: str) -> str:
    with path.open(encoding=encoding, newline="") as handle:
        sample = list(islice(handle, 50))
    best, best_score = None, (0, 0)
    for delimiter in _DELIMITERS:
        rows = [r for r in csv.reader(io.StringIO("".join(sample)), delimiter=delimiter) if r]
        if not rows or len(rows[0]) < 2:
            continue
        width = len(rows[0])
        score = (sum(len(r) == width for r in rows), width)
        if score > best_score:
            best, best_score = delimiter, score
    if best is None:
        raise SourceError(
            f"{path}: the header has no column separator (expected , ; tab or |); "
            "is this a CSV export?"
        )
    return best


def open_source(path: Path) -> CsvSource:
    """Check and sniff a CSV file; SourceError says what is wrong with it."""
    sha = _check_bytes(path)
    encoding = _detect_encoding(path)
    delimiter = _detect_delimiter(path, encoding)
    with path.open(encoding=encoding, newline="") as handle:
        header = next(csv.reader(handle, delimiter=delimiter), [])
    header = [h.strip() for h in header]
    if not any(header):
        raise SourceError(f"{path}: the first line (the header) is blank")
    return CsvSource(path, encoding, delimiter, tuple(header), sha)
