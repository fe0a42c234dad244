"""Recaudo's command line: `python main.py --help`."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

from config.logging import configure_logging

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from campaigns.compliance import PolicySet
    from campaigns.compliance.explain import Explanation
from config.settings import Settings, SettingsError, load_settings

app = typer.Typer(
    help="Recaudo: compliant outbound IVR, agents and SMS for collection agencies.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database schema (Alembic migrations).", no_args_is_help=True)
portfolio_app = typer.Typer(help="Portfolios (carteras): synthetic files.", no_args_is_help=True)
compliance_app = typer.Typer(
    help="Compliance: decide single cases, calendars.", no_args_is_help=True
)
app.add_typer(db_app, name="db")
app.add_typer(compliance_app, name="compliance")
app.add_typer(portfolio_app, name="portfolio")

err = Console(stderr=True)
out = Console()
_state: dict[str, Settings] = {}
Country = Annotated[str, typer.Option("--country", "-c", help="MX, CO, PE, CL or US.")]


def fail(message: str, code: int = 2) -> typer.Exit:
    err.print(f"[bold red]error:[/bold red] {message}", highlight=False)
    return typer.Exit(code)


def settings() -> Settings:
    return _state["settings"]


@app.callback()
def _main(
    config: Annotated[
        Path | None, typer.Option("--config", help="YAML settings file (or RECAUDO_CONFIG).")
    ] = None,
) -> None:
    try:
        _state["settings"] = load_settings(config)
    except SettingsError as exc:
        raise fail(str(exc)) from None
    configure_logging(_state["settings"].log_level, _state["settings"].log_format)


def _country(value: str | None) -> str:
    from campaigns.geography import SUPPORTED_COUNTRIES

    country = (value or settings().default_country).upper()
    if country not in SUPPORTED_COUNTRIES:
        raise fail(f"--country {value}: not supported; use one of {', '.join(SUPPORTED_COUNTRIES)}")
    return country


# -- db ----------------------------------------------------------------------------------------


def _migrate(action: str, revision: str | None) -> str | None:
    """Run one migration action (or none) and return the database's revision after it."""
    from campaigns import db

    async def run() -> str | None:
        engine = db.create_engine(settings().database_url)
        try:
            if action == "upgrade":
                await db.upgrade(engine, revision or "head")
            elif action == "downgrade":
                await db.downgrade(engine, revision or "base")
            return await db.current_revision(engine)
        finally:
            await engine.dispose()

    try:
        return asyncio.run(run())
    except db.DatabaseError as exc:
        raise fail(str(exc)) from None


@db_app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Create or update the schema."""
    out.print(f"database at revision {_migrate('upgrade', revision)}")


@db_app.command("downgrade")
def db_downgrade(revision: Annotated[str, typer.Argument(help="Target, e.g. base or -1.")]) -> None:
    """Take the schema back to an older revision (base = empty)."""
    out.print(f"database at revision {_migrate('downgrade', revision)}")


@db_app.command("current")
def db_current() -> None:
    """Show the schema revision of the database and of this code."""
    from campaigns.db import head_revision

    current = _migrate("current", None)
    out.print(f"database: {current or 'empty'} · code: {head_revision()}")


# -- import ------------------------------------------------------------------------------------


@app.command("import")
def import_command(
    file: Annotated[Path, typer.Argument(help="Portfolio CSV (UTF-8 or Latin-1; , ; tab or |).")],
    country: Annotated[str | None, typer.Option("--country", "-c", help="MX CO PE CL US.")] = None,
    strict: Annotated[bool, typer.Option(help="Any bad row and nothing changes.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    mapping: Annotated[Path | None, typer.Option(help="YAML: header → field overrides.")] = None,
    creditor: Annotated[str | None, typer.Option(help="Creditor when no column says.")] = None,
    decimal: Annotated[str | None, typer.Option(help="Decimal separator: . or ,")] = None,
    date_order: Annotated[str | None, typer.Option(help="dmy or mdy for nn/nn/yyyy.")] = None,
    as_of: Annotated[str | None, typer.Option(help="Date days past due count to (ISO).")] = None,
) -> None:
    """Validate a portfolio (cartera) CSV and load its good rows."""
    from campaigns import db
    from campaigns.portfolio.console import print_report
    from campaigns.portfolio.errors import PortfolioError
    from campaigns.portfolio.importer import ImportOptions, import_portfolio
    from campaigns.portfolio.values import DateOrder

    s = settings()
    if decimal not in (None, ".", ","):
        raise fail(f"--decimal {decimal!r}: use . or ,")
    if date_order not in (None, "dmy", "mdy"):
        raise fail(f"--date-order {date_order!r}: use dmy or mdy")
    try:
        as_of_date = date.fromisoformat(as_of) if as_of else None
    except ValueError:
        raise fail(f"--as-of {as_of!r}: use an ISO date such as 2026-11-25") from None
    options = ImportOptions(
        path=file,
        country=_country(country),
        creditor=creditor or s.default_creditor,
        strict=strict,
        mapping=mapping,
        decimal=decimal,
        date_order=DateOrder(date_order) if date_order else None,
        as_of=as_of_date,
        workers=s.importer.workers,
        batch_rows=s.importer.batch_rows,
        parallel_from_rows=s.importer.parallel_from_rows,
        max_balance=s.importer.max_balance,
    )

    async def run(progress: Progress | None) -> object:
        engine = db.create_engine(s.database_url)
        task = progress.add_task("reading", total=None) if progress else None

        def tick(phase: str, done: int, total: int | None) -> None:
            if progress is not None and task is not None:
                progress.update(task, description=phase, completed=done, total=total)

        try:
            return await import_portfolio(engine, options, tick)
        finally:
            await engine.dispose()

    # A bar for files of more than a few thousand rows (about 150 bytes a row).
    show_bar = not as_json and file.is_file() and file.stat().st_size > 500_000
    try:
        if show_bar:
            columns = (*Progress.get_default_columns()[:-1], MofNCompleteColumn())
            with Progress(*columns, BarColumn(), TimeRemainingColumn(), console=err) as bar:
                report = asyncio.run(run(bar))
        else:
            report = asyncio.run(run(None))
    except (PortfolioError, db.DatabaseError) as exc:
        if as_json:
            print(json.dumps({"error": str(exc)}, ensure_ascii=False))
        raise fail(str(exc)) from None
    from campaigns.portfolio.importer import ImportReport

    assert isinstance(report, ImportReport)
    if as_json:
        print(json.dumps(report.to_json(), ensure_ascii=False))
    else:
        print_report(report, out)
    if not report.committed:
        raise typer.Exit(1)


# -- portfolio ---------------------------------------------------------------------------------


@portfolio_app.command("generate")
def portfolio_generate(
    rows: Annotated[int, typer.Option(help="Data rows to write.")],
    out_file: Annotated[Path, typer.Option("--out", help="CSV file to write.")],
    country: Annotated[str | None, typer.Option("--country", "-c", help="MX CO PE CL US.")] = None,
    bad_rows: Annotated[float, typer.Option(help="Share of deliberately broken rows.")] = 0.0,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same file).")] = 7,
) -> None:
    """Write a realistic synthetic portfolio (names, area codes over every zone, balances…)."""
    from campaigns.portfolio.generator import GeneratorOptions, write_portfolio

    try:
        options = GeneratorOptions(
            rows=rows, country=_country(country), seed=seed, bad_row_fraction=bad_rows
        )
        written = write_portfolio(options, out_file)
    except ValueError as exc:
        raise fail(str(exc)) from None
    except OSError as exc:
        raise fail(f"cannot write {out_file}: {exc.strerror}") from None
    out.print(f"wrote {written:,} rows to {out_file}")


# -- compliance --------------------------------------------------------------------------


def _policies(extra: list[Path] | None) -> PolicySet:
    from campaigns.compliance import PolicyError, load_policies

    try:
        return load_policies(extra=[*settings().policy_files, *(extra or [])])
    except PolicyError as exc:
        raise fail(str(exc)) from None


def _instant(value: str | None, option: str) -> datetime:
    if value is None:
        return datetime.now(UTC)
    try:
        instant = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise fail(f"{option} {value!r}: use ISO 8601, e.g. 2026-11-25T15:00:00Z") from None
    if instant.tzinfo is None:
        raise fail(f"{option} {value!r}: add the offset (Z for UTC, or -06:00)")
    return instant


@compliance_app.command("check")
def compliance_check(
    packs: Annotated[
        str, typer.Option(help="Packs to apply, comma-separated: us-fdcpa-regf,us-tcpa")
    ],
    channel: Annotated[str, typer.Option(help="voice_live, voice_prerecorded, voicemail, sms…")],
    at: Annotated[str, typer.Option(help="The instant, ISO 8601 with offset (…Z for UTC).")],
    contact: Annotated[Path, typer.Option(help="JSON file: one contact (see README).")],
    history: Annotated[Path | None, typer.Option(help="JSON file: list of past events.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the decision as JSON.")] = False,
    end_margin: Annotated[int, typer.Option(help="Campaign end margin, minutes.")] = 0,
    extra_pack: Annotated[list[Path] | None, typer.Option(help="An agency pack file.")] = None,
) -> None:
    """Decide one case from files: allowed, every reason, and the next allowed instant."""
    from campaigns.compliance import CHANNELS, PolicyError, decide
    from campaigns.compliance.inputs import (
        InputError,
        contact_from_json,
        history_from_json,
        read_json,
    )

    if channel not in CHANNELS:
        raise fail(f"--channel {channel!r}: use one of {', '.join(CHANNELS)}")
    instant = _instant(at, "--at")
    policy_set = _policies(extra_pack)
    try:
        selected = policy_set.select(p.strip() for p in packs.split(",") if p.strip())
        who = contact_from_json(read_json(contact), str(contact))
        events = history_from_json(read_json(history), str(history)) if history else ()
    except (InputError, PolicyError) as exc:
        raise fail(str(exc)) from None
    decision = decide(
        who, channel, instant, events, selected, end_margin=timedelta(minutes=end_margin)
    )
    if as_json:
        print(json.dumps(decision.to_json(), ensure_ascii=False))
        return
    from campaigns.compliance.console import print_decision

    print_decision(decision, out)


def _explanations(key: str, at: datetime) -> list[Explanation]:
    """Decide every channel for every contact matching `key`, from the database."""
    from campaigns import db
    from campaigns.compliance.explain import explain

    s = settings()
    policy_set = _policies(None)

    async def run() -> list[Explanation]:
        engine = db.create_engine(s.database_url)
        try:
            await db.ensure_migrated(engine)
            async with db.session_factory(engine)() as session:
                return await explain(
                    session,
                    key,
                    at,
                    policy_set,
                    country=s.default_country,
                    creditor_sector=s.creditor_sector,
                    collector_role=s.collector_role,
                )
        finally:
            await engine.dispose()

    try:
        found = asyncio.run(run())
    except db.DatabaseError as exc:
        raise fail(str(exc)) from None
    if not found:
        raise fail(f"no phone or account matches {key!r} in {s.database_url}")
    return found


@app.command("why")
def why_command(
    key: Annotated[str, typer.Argument(help="A phone number (any format) or an account number.")],
    at: Annotated[str | None, typer.Option(help="Instant to decide at (default: now).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Why is (or isn't) this debtor contacted: zones and their sources, packs, every decision."""
    from campaigns.compliance.console import print_decision

    found = _explanations(key, _instant(at, "--at"))
    if as_json:
        print(json.dumps([e.to_json() for e in found], ensure_ascii=False))
        return
    for item in found:
        c = item.stored.contact
        out.rule(f"{item.stored.debtor.full_name} · {c.debt} · {c.phone}")
        out.print(
            f"role {c.role} · line {c.line_type} · provenance {c.provenance} · "
            f"account {c.account_status} · {len(item.history)} events in the last 60 days"
        )
        zones: dict[str, list[str]] = {}
        for zone_name, source in c.zone_sources:
            zones.setdefault(zone_name, []).append(source)
        for zone_name, sources in zones.items():
            out.print(f"  zone {zone_name}: from {', '.join(sources)}")
        packs = ", ".join(f"{p.id} {p.version}" for p in item.packs) or "none apply"
        out.print(f"  packs: {packs}")
        for channel, decision in item.decisions.items():
            print_decision(decision, out, title=channel)


@compliance_app.command("calendar")
def compliance_calendar(
    phone: Annotated[str, typer.Argument(help="A phone number of a debtor in the database.")],
    days: Annotated[int, typer.Option(min=1, max=30, help="Days ahead.")] = 7,
    channel: Annotated[str, typer.Option(help="Channel.")] = "voice_prerecorded",
    at: Annotated[str | None, typer.Option(help="Start (default: now).")] = None,
) -> None:
    """The windows in which this phone may be contacted over the next days, in every zone."""
    from campaigns.compliance.clock import zone
    from campaigns.compliance.explain import allowed_windows

    start = _instant(at, "--at")
    item = _explanations(phone, start)[0]
    c = item.stored.contact
    windows = allowed_windows(c, channel, start, days, item.history, item.packs)
    out.print(f"{c.phone} · {channel} · packs {', '.join(p.id for p in item.packs)}")
    if not windows:
        reasons = item.decisions.get(channel)
        why = "; ".join(r.detail_es for r in reasons.reasons) if reasons else ""
        out.print(f"[red]no allowed window in the next {days} days[/] {why}")
        return
    zones = item.decisions[channel].zones if channel in item.decisions else ()
    for opened, closed in windows:
        local = " · ".join(
            f"{opened.astimezone(zone(z)).strftime('%a %d %b %H:%M')}–"
            f"{closed.astimezone(zone(z)).strftime('%H:%M')} {z}"
            for z in zones
        )
        out.print(f"  {opened:%Y-%m-%d %H:%M}–{closed:%H:%M} UTC  ({local})")


# -- campaign ----------------------------------------------------------------------------------

campaign_app = typer.Typer(
    help="Campaigns: create, enrol debtors, run the dialer, see where they stand.",
    no_args_is_help=True,
)
app.add_typer(campaign_app, name="campaign")
CampaignId = Annotated[int, typer.Argument(help="The campaign's id (see `campaign list`).")]
_T = TypeVar("_T")


def _campaign_db(work: Callable[[AsyncSession], Awaitable[_T]]) -> _T:
    """Run `work` in one transaction on the migrated database; errors become exit code 2."""
    from campaigns import db
    from campaigns.manage import CampaignError

    async def run() -> _T:
        engine = db.create_engine(settings().database_url)
        try:
            await db.ensure_migrated(engine)
            async with db.session_factory(engine)() as session, session.begin():
                return await work(session)
        finally:
            await engine.dispose()

    try:
        return asyncio.run(run())
    except (db.DatabaseError, CampaignError) as exc:
        raise fail(str(exc)) from None


_PACING_HELP = (
    "blast (IVR robocalls), progressive, ratio, predictive or ivr_transfer; settings: "
    "cps, burst, max_channels, lines_per_agent, ratio, max_lines_per_agent, abandon_target, "
    "hourly_abandon_limit, service_seconds, service_level, warmup_live_answers, warmup_handles."
)


@campaign_app.command("create")
def campaign_create(
    name: Annotated[str, typer.Option(help="A unique name, e.g. 'MX mora 30-60 nov'.")],
    country: Annotated[str | None, typer.Option("--country", "-c", help="MX CO PE CL US.")] = None,
    channel: Annotated[str, typer.Option(help="voice_prerecorded or voice_live.")] = (
        "voice_prerecorded"
    ),
    creditor: Annotated[
        str | None, typer.Option(help="Only this creditor's accounts (default: every creditor).")
    ] = None,
    pacing: Annotated[str, typer.Option(help=_PACING_HELP)] = "blast",
    pacing_set: Annotated[
        list[str] | None,
        typer.Option("--set", help="A pacing setting KEY=VALUE (repeatable), e.g. cps=10."),
    ] = None,
) -> None:
    """Create a campaign and print its id (enrol debtors next)."""
    from campaigns.manage import CALL_CHANNELS, new_campaign

    if channel not in {c.value for c in CALL_CHANNELS}:
        raise fail(f"--channel {channel!r}: use one of {', '.join(c.value for c in CALL_CHANNELS)}")
    if not name.strip() or len(name) > 120:
        raise fail(f"--name {name!r}: use 1 to 120 characters")
    code = _country(country)

    async def work(session: AsyncSession) -> int:
        campaign = await new_campaign(
            session,
            name=name.strip(),
            country=code,
            channel=channel,
            creditor=creditor,
            pacing=pacing,
            pacing_settings=list(pacing_set or []),
        )
        return campaign.id

    campaign_id = _campaign_db(work)
    print(campaign_id)
    err.print(
        f"created campaign {campaign_id} {name.strip()!r} ({code}, {channel}, creditor "
        f"{creditor or 'any'}, pacing {pacing}); next: python main.py campaign enrol "
        f"{campaign_id}",
        highlight=False,
    )


@campaign_app.command("pace")
def campaign_pace(
    campaign_id: CampaignId,
    mode: Annotated[str, typer.Argument(help=_PACING_HELP)],
    pacing_set: Annotated[
        list[str] | None,
        typer.Option(
            "--set", help="A pacing setting KEY=VALUE (repeatable), e.g. abandon_target=0.02."
        ),
    ] = None,
    reset: Annotated[
        bool, typer.Option(help="Forget the settings given before (back to the defaults).")
    ] = False,
) -> None:
    """Change how a campaign paces its calls; a running dialer follows within 30 s."""
    from campaigns.manage import set_pacing

    async def work(session: AsyncSession) -> dict[str, object]:
        campaign = await set_pacing(session, campaign_id, mode, list(pacing_set or []), reset=reset)
        return dict(campaign.options.get("pacing") or {})

    values = _campaign_db(work)
    shown = " ".join(f"{k}={v}" for k, v in sorted(values.items())) or "the defaults"
    out.print(
        f"campaign {campaign_id} now paces {mode} with {shown}; a running dialer follows "
        "within 30 s",
        highlight=False,
    )


@campaign_app.command("enrol")
def campaign_enrol(
    campaign_id: CampaignId,
    limit: Annotated[int | None, typer.Option(min=1, help="At most this many accounts.")] = None,
    due: Annotated[
        str | None, typer.Option(help="First call not before (ISO 8601 with offset; default now).")
    ] = None,
) -> None:
    """Enrol the active accounts of the campaign's country (and creditor) not yet in it."""
    from campaigns.manage import enrol_contacts

    due_at = _instant(due, "--due")

    async def work(session: AsyncSession) -> tuple[str, str, int]:
        campaign, added = await enrol_contacts(session, campaign_id, due_at=due_at, limit=limit)
        return campaign.country, campaign.creditor or "any creditor", added

    country, creditor, added = _campaign_db(work)
    if not added:
        out.print(
            f"nothing enrolled: campaign {campaign_id} takes active {country} accounts of "
            f"{creditor} not yet in it, and there are none; import a cartera first "
            f"(python main.py import FILE --country {country})",
            highlight=False,
        )
        return
    out.print(
        f"enrolled {added:,} contacts into campaign {campaign_id}, "
        f"due from {due_at:%Y-%m-%d %H:%M} UTC",
        highlight=False,
    )


@campaign_app.command("list")
def campaign_list() -> None:
    """Every campaign: id, name, country, channels, contacts."""
    from campaigns.manage import list_campaigns

    async def work(session: AsyncSession) -> list[tuple[int, str, str, str, int]]:
        found = await list_campaigns(session)
        return [(c.id, c.name, c.country, ", ".join(c.channels), n) for c, n in found]

    rows = _campaign_db(work)
    if not rows:
        out.print("no campaigns yet: python main.py campaign create --name NAME --country MX")
    for campaign_id, name, country, channels, contacts in rows:
        out.print(f"{campaign_id:>5}  {name}  · {country} · {channels} · {contacts:,} contacts")


@campaign_app.command("status")
def campaign_status_command(
    campaign_id: CampaignId,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Where a campaign stands: contacts pending/done, attempts per outcome, open attempts."""
    from campaigns.manage import CampaignStatusReport, campaign_status, print_status

    async def work(session: AsyncSession) -> CampaignStatusReport:
        return await campaign_status(session, campaign_id, datetime.now(UTC))

    report = _campaign_db(work)
    if as_json:
        print(json.dumps(report.to_json(), ensure_ascii=False))
        return
    print_status(report, out)


@campaign_app.command("run")
def campaign_run(
    campaign_id: CampaignId,
    backend: Annotated[str, typer.Option(help="asterisk, twilio or sim (built-in simulator).")],
    caller_ids: Annotated[
        Path | None,
        typer.Option(help="Caller-ID pool YAML to import and use (kept for the next runs)."),
    ] = None,
    until: Annotated[
        str | None, typer.Option(help="Stop at this instant (ISO 8601 with offset).")
    ] = None,
    for_seconds: Annotated[
        float | None, typer.Option(min=1, help="Stop after this many seconds.")
    ] = None,
    agents: Annotated[
        int,
        typer.Option(
            min=0,
            max=500,
            help="Simulated agents for agent pacing (progressive, ratio, predictive); sim only.",
        ),
    ] = 0,
) -> None:
    """Dial the campaign in real time until Ctrl-C/SIGTERM, --until, or nothing is left.

    On stop no new call starts; calls in flight are followed until they end (at most
    RECAUDO_DIALER__STOP_GRACE_SECONDS; a second Ctrl-C cuts that short).
    """
    from campaigns import db
    from dialer.runner import Dialer
    from dialer.service import BACKENDS, RunReport, RunRequest, RunSetupError, print_run
    from dialer.service import run_campaign as run

    chosen = next((name for name in BACKENDS if name == backend), None)
    if chosen is None:
        raise fail(f"--backend {backend!r}: use one of {', '.join(BACKENDS)}")
    if until is not None and for_seconds is not None:
        raise fail("--until and --for-seconds: give one of them, not both")
    stop_at = None
    if until is not None:
        stop_at = _instant(until, "--until")
        if stop_at <= datetime.now(UTC):
            raise fail(f"--until {until!r} is in the past; give a later instant")
    elif for_seconds is not None:
        stop_at = datetime.now(UTC) + timedelta(seconds=for_seconds)
    if caller_ids is not None and not caller_ids.is_file():
        raise fail(f"--caller-ids {caller_ids}: no such file")
    request = RunRequest(campaign_id, chosen, caller_ids, stop_at, agents)

    def started(report: RunReport, dialer: Dialer) -> None:
        o = dialer.options
        out.print(
            f"campaign {report.campaign_id} {report.name!r} · {report.where} · node "
            f"{report.node} · up to {o.max_concurrent} calls, {o.cps:g}/s · Ctrl-C or SIGTERM "
            "stops (calls in flight finish first)",
            highlight=False,
        )
        if report.recovered:
            out.print(
                f"recovered {report.recovered} attempts an earlier run left open: closed (failed "
                "unless answered: their end was not heard), never dialled again; the contacts "
                "retry later",
                highlight=False,
            )
        if report.released:
            out.print(f"released {report.released} contacts an earlier run leased but did not dial")

    def stopping(report: RunReport, in_flight: int) -> None:
        if in_flight:
            grace = settings().dialer.stop_grace_seconds
            err.print(
                f"stopping ({report.stopped_by}): no new calls; waiting up to {grace:g} s for "
                f"{in_flight} calls in flight (Ctrl-C again stops now)",
                highlight=False,
            )

    try:
        report = asyncio.run(
            run(settings(), _policies(None), request, on_start=started, on_stop=stopping)
        )
    except (RunSetupError, db.DatabaseError) as exc:
        raise fail(str(exc)) from None
    except KeyboardInterrupt:
        raise fail(
            "interrupted while connecting or closing; any attempt left open is closed by the "
            "next run, never dialled again",
            code=130,
        ) from None
    print_run(report, out)


# -- simulate ----------------------------------------------------------------------------------

simulate_app = typer.Typer(help="Simulators that stand in for real systems.", no_args_is_help=True)
app.add_typer(simulate_app, name="simulate")


@simulate_app.command("pbx")
def simulate_pbx(
    host: Annotated[str, typer.Option(help="Address to listen on (loopback only by default).")] = (
        "127.0.0.1"
    ),
    ami_port: Annotated[int, typer.Option(help="AMI TCP port (0 picks a free one).")] = 5038,
    agi_url: Annotated[
        str | None,
        typer.Option(help="FastAGI server answered calls go to, agi://host:port/script."),
    ] = None,
    users: Annotated[
        Path | None,
        typer.Option(
            help="YAML file of AMI users, one 'username: secret' per line. Without it: user "
            "'dialer', secret from RECAUDO_SIM_AMI_SECRET or a random one printed at start."
        ),
    ] = None,
    seed: Annotated[int, typer.Option(help="Random seed of the debtor population.")] = 0,
    time_scale: Annotated[
        float, typer.Option(help="Speed-up of every wait (10 = 10× faster).")
    ] = 1.0,
    allow_remote: Annotated[
        bool, typer.Option(help="Allow a non-loopback --host (AMI can place calls).")
    ] = False,
) -> None:
    """Run the built-in PBX: AMI and FastAGI like Asterisk 22, debtors from the population model."""
    from dialer.sim.console import PbxOptions, SimulatorSetupError, run_pbx

    options = PbxOptions(host, ami_port, agi_url, users, seed, time_scale, allow_remote)
    try:
        run_pbx(options, out)
    except SimulatorSetupError as exc:
        raise fail(str(exc)) from None


# -- demo --------------------------------------------------------------------------------------


@app.command("demo")
def demo_command(
    rows: Annotated[int, typer.Option(help="Debtors per country.")] = 2000,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 7,
) -> None:
    """A whole run on the embedded defaults: generate portfolios, import them, summarise."""
    from campaigns.demo import run_demo

    try:
        code = asyncio.run(run_demo(settings(), out, rows=rows, seed=seed))
    except SettingsError as exc:
        raise fail(str(exc)) from None
    raise typer.Exit(code)


if __name__ == "__main__":
    sys.exit(app())
