"""Structured logging (structlog) to stderr: human-readable or JSON lines.

Debtor PII never goes to the log: phones appear as their last four digits (`mask_phone`), and
names, national ids and balances are not logged at all.
"""

from __future__ import annotations

import logging
import sys

import structlog

__all__ = ["configure_logging", "mask_phone"]


def configure_logging(level: str = "info", fmt: str = "console") -> None:
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer()
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=False,
    )


def mask_phone(e164: str) -> str:
    """`+525512345678` → `…5678`: enough to tell numbers apart in a log, not to call them."""
    return "…" + e164[-4:] if len(e164) > 4 else "…"
