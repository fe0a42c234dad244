"""How an import report looks on a terminal (rich), and as JSON."""

from __future__ import annotations

from collections import Counter

from rich.console import Console
from rich.table import Table

from campaigns.portfolio.importer import ImportReport

__all__ = ["print_report"]

_SHOWN_ERRORS = 50


def print_report(report: ImportReport, console: Console) -> None:
    """A summary line, the bad rows (first 50, then counts per column and reason)."""
    if report.errors:
        table = Table(title=f"Rejected rows in {report.source}", title_justify="left")
        table.add_column("row", justify="right")
        table.add_column("column")
        table.add_column("reason", overflow="fold")
        for error in report.errors[:_SHOWN_ERRORS]:
            table.add_row(str(error.row), error.column, error.reason)
        console.print(table)
        if len(report.errors) > _SHOWN_ERRORS:
            by_column = Counter(e.column for e in report.errors)
            summary = ", ".join(f"{column}: {n}" for column, n in by_column.most_common())
            console.print(
                f"… and {len(report.errors) - _SHOWN_ERRORS} more problems "
                f"(by column: {summary}); use --json for all of them"
            )
    if report.ignored_columns:
        console.print(f"[dim]ignored columns: {', '.join(report.ignored_columns)}[/dim]")
    sep = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}.get(report.delimiter)
    console.print(
        f"[dim]{report.rows:,} rows · {report.encoding} · {sep}-separated · decimal "
        f"{report.decimal_separator or 'not needed'} · {report.seconds:.1f} s"
        + (f" · {report.workers} workers" if report.workers else "")
        + "[/dim]"
    )
    if report.committed:
        console.print(
            f"[bold green]imported {report.imported:,}[/bold green] · updated {report.updated:,} "
            f"· unchanged {report.unchanged:,} · [bold red]rejected {report.rejected:,}[/bold red]"
            + (
                f" · {report.vanished:,} accounts of this creditor were not loaded from this "
                "file (absent or rejected; kept, not deleted)"
                if report.vanished
                else ""
            )
        )
    else:
        console.print(
            f"[bold red]strict import refused: {report.rejected:,} bad rows; nothing was "
            "changed[/bold red]"
        )
