"""`main.py demo`: a run on the embedded defaults through the production code paths.

Generate one synthetic portfolio per country (a few broken rows), import each into a fresh
SQLite database (and one again: idempotent), print the portfolio, rehearse compliance at the
current hour, then run a Mexican campaign day on the PBX simulator through the dialer (IVR
robocalls, paced blast) and a Colombian day of predictive dialling to a simulated team of
agents (live occupancy and abandon rate; abandons by hour at the end).
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

from rich.console import Console
from rich.table import Table
from sqlalchemy.ext.asyncio import AsyncEngine

from campaigns import db, geography
from campaigns.compliance import PolicySet, load_policies
from campaigns.compliance.clock import zone
from campaigns.compliance.rehearsal import Rehearsal, rehearse
from campaigns.enums import Channel
from campaigns.geography import SUPPORTED_COUNTRIES
from campaigns.portfolio.generator import GeneratorOptions, write_portfolio
from campaigns.portfolio.importer import ImportOptions, ImportReport, import_portfolio
from campaigns.reports import PortfolioSummary, portfolio_summary
from config.settings import Settings
from dialer.callerid_store import import_pool, load_picker
from dialer.rehearsal import DayReport, rehearse_day
from dialer.runner import Dialer, DialerOptions, PooledCallerIds
from dialer.sim.population import AgentCampaignModel
from dialer.sim.team import SimulatedTeam

__all__ = ["run_demo"]

_CAMPAIGN_CONTACTS = 600
_AGENT_CONTACTS = 1900
_AGENTS = 5
_AGENT_HOURS = (9, 13)
_DEMO_POOL = Path(__file__).resolve().parents[1] / "config" / "caller_ids" / "demo.yaml"

_COUNTRIES = ("MX", "CO", "PE", "CL", "US")
_CREDITORS = {
    "MX": "Financiera del Norte",
    "CO": "Banco Cafetero",
    "PE": "Caja Andina",
    "CL": "Retail Austral",
    "US": "Lakeside Credit",
}


def _import_line(console: Console, country: str, report: ImportReport) -> None:
    console.print(
        f"  {country}: {report.rows:,} rows → [green]{report.imported:,} imported[/green], "
        f"{report.updated:,} updated, {report.unchanged:,} unchanged, "
        f"[red]{report.rejected:,} rejected[/red] ({report.seconds:.2f} s)"
    )
    for error in report.errors[:2]:
        console.print(f"      row {error.row}, {error.column}: {error.reason}", highlight=False)


def _print_summary(console: Console, summary: PortfolioSummary) -> None:
    table = Table(title="Portfolio per country", title_justify="left")
    for name in ("country", "debtors", "accounts", "phones", "balance"):
        table.add_column(name, justify="left" if name in ("country", "balance") else "right")
    for line in summary.countries:
        balance = ", ".join(f"{v:,.2f} {c}" for c, v in sorted(line.balance.items()))
        table.add_row(
            line.country, f"{line.debtors:,}", f"{line.accounts:,}", f"{line.phones:,}", balance
        )
    console.print(table)

    table = Table(title="Segments (days past due)", title_justify="left")
    for name in ("country", "segment", "accounts", "balance"):
        table.add_column(name, justify="right" if name in ("accounts", "balance") else "left")
    for seg in summary.segments:
        table.add_row(
            seg.country, seg.segment, f"{seg.accounts:,}", f"{seg.balance:,.2f} {seg.currency}"
        )
    console.print(table)

    table = Table(title="Time zones a call window must respect", title_justify="left")
    for name in ("country", "zone", "phones"):
        table.add_column(name, justify="right" if name == "phones" else "left")
    for (country, zone_name), count in sorted(summary.zones.items()):
        table.add_row(country, zone_name, f"{count:,}")
    console.print(table)
    for country in sorted({c for c, _ in summary.zones}):
        console.print(
            f"  {country}: {summary.multi_zone[country]:,} phones have more than one candidate "
            f"zone (the window must hold in all), {summary.no_zone[country]:,} have none"
        )


def _print_rehearsal(console: Console, rehearsal: Rehearsal) -> None:
    table = Table(title="Compliance now", title_justify="left")
    for name in ("country", "debtors", "call now", "text now", "blocked by", "next large group"):
        numeric = name in ("debtors", "call now", "text now")
        table.add_column(name, justify="right" if numeric else "left", overflow="fold")
    for country, line in sorted(rehearsal.countries.items()):
        blocked = ", ".join(f"{code} {n:,}" for code, n in line.blocked_call.most_common(3))
        group = line.next_large_group()
        opens = "—"
        if group is not None:
            hour, count = group
            main_zone = geography.country_zones(country)[0]
            local = hour.astimezone(zone(main_zone))
            opens = f"{count:,} at {hour:%a %H:%M} UTC ({local:%H:%M} {main_zone})"
        table.add_row(
            country,
            f"{line.debtors:,}",
            f"{line.callable_now:,}",
            f"{line.textable_now:,}",
            blocked or "—",
            opens,
        )
    console.print(table)


async def run_demo(settings: Settings, console: Console, *, rows: int, seed: int) -> int:
    """Run the demo; returns the process exit code."""
    if set(_COUNTRIES) - set(SUPPORTED_COUNTRIES):
        raise AssertionError("demo countries must be supported")
    workdir = Path(settings.var_dir) / "demo"
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    url = f"sqlite+aiosqlite:///{workdir / 'recaudo-demo.db'}"
    engine = db.create_engine(url)
    try:
        console.rule("[bold]Recaudo demo[/bold] — portfolio import")
        console.print(f"database: {url} (fresh)")
        await db.upgrade(engine)
        console.print(f"schema migrated to revision {db.head_revision()}")
        files: dict[str, Path] = {}
        console.print(f"\n[bold]1. Synthetic portfolios[/bold] ({rows:,} debtors each, 2 % broken)")
        for index, country in enumerate(_COUNTRIES):
            path = workdir / f"cartera_{country.lower()}.csv"
            options = GeneratorOptions(
                rows=rows,
                country=country,
                seed=seed + index,
                bad_row_fraction=0.02,
                creditor=_CREDITORS[country],
            )
            write_portfolio(options, path)
            files[country] = path
            console.print(f"  {path}")
        console.print("\n[bold]2. Import[/bold] (bad rows are reported and skipped)")
        for country, path in files.items():
            report = await import_portfolio(
                engine,
                ImportOptions(
                    path=path,
                    country=country,
                    creditor=_CREDITORS[country],
                    max_balance=settings.importer.max_balance,
                    parallel_from_rows=settings.importer.parallel_from_rows,
                ),
            )
            _import_line(console, country, report)
        console.print("\n[bold]3. Import the Mexican file again[/bold] (idempotent: nothing new)")
        report = await import_portfolio(
            engine,
            ImportOptions(
                path=files["MX"],
                country="MX",
                creditor=_CREDITORS["MX"],
                max_balance=settings.importer.max_balance,
            ),
        )
        _import_line(console, "MX", report)
        console.print("\n[bold]4. What is in the database[/bold]")
        _print_summary(console, await portfolio_summary(engine))
        now = datetime.now(UTC)
        console.print(
            f"\n[bold]5. Compliance rehearsal[/bold] at {now:%Y-%m-%d %H:%M} UTC: who may be "
            "called (prerecorded voice) and texted right now, in the debtor's own time zones"
        )
        policies = load_policies(extra=settings.policy_files)
        async with db.session_factory(engine)() as session:
            rehearsal = await rehearse(
                session,
                now,
                policies,
                creditor_sector=settings.creditor_sector,
                collector_role=settings.collector_role,
            )
        _print_rehearsal(console, rehearsal)
        await _campaign_day(console, engine, policies, settings, seed=seed)
        await _predictive_day(console, engine, policies, settings, seed=seed)
        console.print(
            "\nNext: `python main.py import FILE --country MX` loads your own cartera "
            f"(the demo's files are in {workdir})."
        )
    finally:
        await engine.dispose()
    return 0


def _progress_table(dialer: Dialer) -> Table:
    stats = dialer.stats
    answer_rate = stats.answered / stats.settled if stats.settled else 0.0
    local = dialer.clock.now().astimezone(zone("America/Mexico_City"))
    table = Table(title=f"Campaign day, simulated — {local:%H:%M} in Mexico City", expand=False)
    for column in ("in flight", "dialled", "finished", "answer rate", "outcomes", "caller IDs"):
        table.add_column(column)
    outcomes = ", ".join(f"{k} {v}" for k, v in stats.outcomes.most_common())
    callers = ", ".join(f"{k} {v}" for k, v in stats.caller_ids.most_common(3))
    table.add_row(
        str(dialer.in_flight),
        f"{stats.originated:,}",
        f"{stats.settled:,}",
        f"{answer_rate:.0%}",
        outcomes or "—",
        callers or "—",
    )
    return table


async def _campaign_day(
    console: Console, engine: AsyncEngine, policies: PolicySet, settings: Settings, *, seed: int
) -> None:
    """Step 6: a working day of a Mexican campaign on the in-process PBX simulator."""
    from rich.live import Live

    day = datetime.now(UTC).astimezone(zone("America/Mexico_City")).date()
    while day.weekday() >= 5:  # rehearse a weekday
        day += timedelta(days=1)
    console.print(
        f"\n[bold]6. A campaign day on the PBX simulator[/bold]: {_CAMPAIGN_CONTACTS} Mexican "
        f"debtors, {day:%A %Y-%m-%d} 08:00–21:00 Mexico City time on a virtual clock, "
        "through the production dialer (compliance decision, attempt written before each call, "
        "every event stored, retries per outcome)"
    )
    options = DialerOptions(
        max_concurrent=30,
        cps=5.0,
        burst=5,
        creditor_sector=settings.creditor_sector,
        collector_role=settings.collector_role,
        caller_name="Financiera del Norte",
    )
    pool_file = _DEMO_POOL
    async with db.session_factory(engine)() as session, session.begin():
        imported = await import_pool(session, pool_file)
    async with db.session_factory(engine)() as session:
        picker = await load_picker(session, "demo")
    console.print(
        f"  caller-ID pool 'demo' from {pool_file.name}: {imported.created} numbers "
        "(local presence by area code, state, zone; daily cap and cool-down per number)"
    )
    with Live(console=console, refresh_per_second=8, transient=False) as live:
        report = await rehearse_day(
            engine,
            policies,
            PooledCallerIds(picker),
            country="MX",
            creditor=_CREDITORS["MX"],
            day=day,
            local_zone="America/Mexico_City",
            contacts=_CAMPAIGN_CONTACTS,
            options=options,
            seed=seed,
            on_progress=lambda d: live.update(_progress_table(d)),
        )
    console.print()
    table = Table(title="Outcomes of the day", expand=False)
    table.add_column("outcome")
    table.add_column("attempts", justify="right")
    table.add_column("share", justify="right")
    for outcome, count in report.outcomes.most_common():
        table.add_row(outcome, f"{count:,}", f"{count / max(1, report.attempts):.0%}")
    table.add_row("[bold]total[/bold]", f"[bold]{report.attempts:,}[/bold]", "")
    console.print(table)
    console.print(
        f"  {report.contacts} contacts, {report.attempts:,} attempts, peak {report.peak_in_flight} "
        f"calls at once, {report.denied} contacts parked by compliance until their window "
        f"opened, {report.duplicate_originations} numbers dialled twice at once; "
        f"a 13-hour day in {report.wall_seconds:.1f} s"
    )
    used = ", ".join(f"{kind} {count:,}" for kind, count in report.caller_ids.most_common())
    console.print(f"  caller IDs presented, by why they were chosen: {used}")
    for alert in picker.alerts:
        console.print(f"  [yellow]caller-ID alert[/yellow]: {alert.message}")


def _floor_table(dialer: Dialer) -> Table:
    stats = dialer.stats
    local = dialer.clock.now().astimezone(zone("America/Bogota"))
    table = Table(
        title=f"Predictive day, simulated — {local:%H:%M} in Bogotá ({dialer.pacing_label})",
        expand=False,
    )
    for column in ("agents talking · wrap · ready", "occupancy", "ringing", "waiting",
                   "dialled", "to agents", "abandon (FTC)"):  # fmt: skip
        table.add_column(column)
    dispatch = dialer.dispatch
    if dispatch is None:
        return table
    now = dispatch.seconds(dialer.clock.now())
    counts = dispatch.floor.counts()
    rate = dispatch.stats.ledger.cumulative()
    table.add_row(
        f"{counts.talking} · {counts.wrapping} · {counts.ready}",
        f"{dispatch.floor.totals(now).occupancy:.1%}",
        str(dispatch.ringing),
        str(counts.waiting),
        f"{stats.originated:,}",
        f"{stats.bridged:,}",
        f"{rate.rate:.2%} ({rate.abandons}/{rate.live_answers})",
    )
    return table


async def _predictive_day(
    console: Console, engine: AsyncEngine, policies: PolicySet, settings: Settings, *, seed: int
) -> None:
    """Step 7: predictive dialling to a simulated team of agents, Colombian debtors."""
    import holidays
    from rich.live import Live

    from dialer.runner import FixedCallerId

    day = datetime.now(UTC).astimezone(zone("America/Bogota")).date() + timedelta(days=1)
    closed = holidays.country_holidays("CO", years=(day.year, day.year + 1))
    while day.weekday() >= 5 or day in closed:  # a Colombian working day
        day += timedelta(days=1)
    console.print(
        f"\n[bold]7. Predictive dialling to agents[/bold]: {_AGENTS} simulated agents, "
        f"{_AGENT_CONTACTS:,} Colombian debtors, {day:%A %Y-%m-%d} "
        f"{_AGENT_HOURS[0]:02d}:00–{_AGENT_HOURS[1]:02d}:00 Bogotá time; "
        "the pacer launches calls so that an answered debtor almost always finds an agent "
        "within 2 s (target 2.5 % abandoned, never over 5 % in an hour), and the one who does "
        "not hears who called and how to call back, and gets an SMS"
    )
    options = DialerOptions(
        max_concurrent=60,
        cps=5.0,
        burst=5,
        creditor_sector=settings.creditor_sector,
        collector_role=settings.collector_role,
        caller_name="Banco Cafetero",
        channel=Channel.VOICE_LIVE,
        # A rehearsal writes events in fewer, larger transactions (outcomes still before any
        # retry of the same contact can be claimed).
        flush_every=timedelta(seconds=10),
        settle_flush=timedelta(seconds=5),
    )
    with Live(console=console, refresh_per_second=8, transient=False) as live:
        report = await rehearse_day(
            engine,
            policies,
            FixedCallerId("+576015550101"),
            country="CO",
            creditor=_CREDITORS["CO"],
            day=day,
            local_zone="America/Bogota",
            contacts=_AGENT_CONTACTS,
            options=options,
            seed=seed,
            on_progress=lambda d: live.update(_floor_table(d)),
            pacing="predictive",
            team=SimulatedTeam(_AGENTS, seed=seed),
            model=AgentCampaignModel(zone="America/Bogota"),
            hours=_AGENT_HOURS,
            name=f"predictivo CO {day.isoformat()}",
        )
    _print_abandons(console, report)


def _print_abandons(console: Console, report: DayReport) -> None:
    table = Table(title="Abandon rate by hour (FTC: abandoned ÷ live answers)", expand=False)
    for column in ("hour (Bogotá)", "live answers", "abandoned", "rate"):
        table.add_column(column, justify="right")
    for start, rate in report.abandon_by_hour:
        local = start.astimezone(zone("America/Bogota"))
        table.add_row(
            f"{local:%H:%M}", f"{rate.live_answers:,}", f"{rate.abandons:,}", f"{rate.rate:.1%}"
        )
    total = report.abandon
    if total is not None:
        table.add_row(
            "[bold]day[/bold]",
            f"[bold]{total.live_answers:,}[/bold]",
            f"[bold]{total.abandons:,}[/bold]",
            f"[bold]{total.rate:.2%}[/bold]",
        )
    console.print(table)
    outcomes = ", ".join(
        f"{'still talking at the end' if k == 'open' else k} {v:,}"
        for k, v in report.outcomes.most_common()
    )
    console.print(
        f"  pacing {report.pacing}: {report.agents} agents busy {report.occupancy:.1%} of their "
        f"logged-in time; {report.bridged:,} debtors reached an agent; "
        f"{report.followups_queued:,} apology SMS queued; {report.attempts:,} attempts "
        f"({outcomes}); {report.denied:,} contacts parked by compliance; "
        f"{report.duplicate_originations} numbers dialled twice at once; "
        f"{_AGENT_HOURS[1] - _AGENT_HOURS[0]} hours in {report.wall_seconds:.1f} s",
        highlight=False,
    )
