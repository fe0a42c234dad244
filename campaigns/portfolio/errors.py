"""The portfolio package's exceptions: each message says what is wrong, where, and what to do."""

from __future__ import annotations

__all__ = ["HeaderError", "MappingError", "PortfolioError", "SourceError"]


class PortfolioError(Exception):
    """Base of every error that stops an import before any row is loaded."""


class SourceError(PortfolioError):
    """The file cannot be read as a CSV portfolio (missing, empty, wrong encoding…)."""


class HeaderError(PortfolioError):
    """The header lacks a needed column, or names one field twice."""


class MappingError(PortfolioError):
    """The mapping file (--mapping) is malformed or names an unknown field."""
