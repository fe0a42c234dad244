"""How a decision reads on a terminal."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from campaigns.compliance.clock import zone
from campaigns.compliance.model import Decision

__all__ = ["print_decision"]


def print_decision(decision: Decision, console: Console, *, title: str | None = None) -> None:
    verdict = "[bold green]allowed[/]" if decision.allowed else "[bold red]not allowed[/]"
    console.print(
        f"{title or decision.channel}: {verdict} at {decision.at.isoformat()} "
        f"(packs: {', '.join(decision.packs) or 'none'})"
    )
    if decision.reasons:
        table = Table(show_header=True, header_style="bold")
        for name in ("code", "pack/rule", "zone", "why"):
            table.add_column(name, overflow="fold")
        for r in decision.reasons:
            status = "" if r.status == "confirmed" else f" [yellow]({r.status})[/]"
            table.add_row(r.code.value, f"{r.pack}/{r.rule}{status}", r.zone or "", r.detail_es)
        console.print(table)
    if decision.next_allowed_at is None:
        if not decision.allowed:
            console.print("next allowed: [red]never, or not within 30 days[/]")
        return
    if not decision.allowed:
        local = ", ".join(
            f"{decision.next_allowed_at.astimezone(zone(z)).strftime('%a %d %b %H:%M')} {z}"
            for z in decision.zones
        )
        console.print(f"next allowed: {decision.next_allowed_at.isoformat()} UTC ({local})")
