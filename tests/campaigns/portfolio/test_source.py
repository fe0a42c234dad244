"""Reading CSV files as agencies send them: encodings, separators, and files that are not CSV."""

from __future__ import annotations

from pathlib import Path

import pytest

from campaigns.portfolio.errors import SourceError
from campaigns.portfolio.source import open_source

ROWS = 'cuenta{s}nombre{s}telefono{s}saldo\nA1{s}José Peña{s}5512345678{s}"1,234.50"\n'


@pytest.mark.parametrize(
    ("encoding", "bom", "expected"),
    [
        ("utf-8", b"", "utf-8-sig"),
        ("utf-8", b"\xef\xbb\xbf", "utf-8-sig"),
        ("cp1252", b"", "cp1252"),
        ("latin-1", b"", "cp1252"),
    ],
)
@pytest.mark.parametrize("sep", [",", ";", "\t", "|"])
def test_encodings_and_separators(
    tmp_path: Path, encoding: str, bom: bytes, expected: str, sep: str
) -> None:
    path = tmp_path / "cartera.csv"
    path.write_bytes(bom + ROWS.format(s=sep).encode(encoding))
    source = open_source(path)
    assert source.encoding == expected
    assert source.delimiter == sep
    assert source.header == ("cuenta", "nombre", "telefono", "saldo")
    rows = list(source.rows())
    assert rows == [(2, ["A1", "José Peña", "5512345678", "1,234.50"])]


def test_latin1_only_byte_falls_back(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    # 0x81 is undefined in cp1252, so only Latin-1 reads this file.
    path.write_bytes("cuenta,nombre\nA1,Pe\u00f1a\x81\n".encode("latin-1"))
    assert open_source(path).encoding == "latin-1"


def test_blank_lines_are_skipped_and_rows_keep_their_spreadsheet_number(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text("a,b\n1,2\n\n3,4\n,\n5,6\n", encoding="utf-8")
    assert [n for n, _ in open_source(path).rows()] == [2, 4, 6]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "is empty"),
        (b"\xef\xbb\xbf\r\n", "is empty"),
        (b"PK\x03\x04rest-of-a-zip", "Excel workbook"),
        ("cuenta,nombre\n".encode("utf-16"), "UTF-16"),
        (b"cuenta\x00nombre", "NUL bytes"),
        (b"solo una columna\nA1\n", "no column separator"),
        (b",,,\n1,2,3,4\n", "blank"),
    ],
)
def test_files_that_are_not_usable(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "c.csv"
    path.write_bytes(content)
    with pytest.raises(SourceError, match=message):
        open_source(path)


def test_missing_file_and_folder(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="no such file"):
        open_source(tmp_path / "nope.csv")
    with pytest.raises(SourceError, match="folder"):
        open_source(tmp_path)


def test_spans_let_another_reader_find_the_same_rows(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    lines = ["cuenta;nombre;nota"]
    for i in range(1, 40):
        note = '"dos\nlíneas"' if i % 7 == 0 else "ok"  # quoted newlines inside a record
        lines.append(f"A{i};Peña {i};{note}" if i % 11 else "")  # and a few blank records
    path.write_text("\n".join(lines) + "\n", encoding="utf-8-sig")
    source = open_source(path)
    scanned, spans = [], []
    for span, batch in source.spans(5):
        spans.append(span)
        scanned.extend(batch)
    assert scanned == list(source.rows())
    assert [s[1] for s in spans] == list(range(2, 41, 5))
    with source.open() as handle:
        reread = [row for span in reversed(spans) for row in source.read_span(handle, span)]
    assert sorted(reread) == scanned
    assert (8, ["A7", "Peña 7", "dos\nlíneas"]) in scanned  # one record, one row number
