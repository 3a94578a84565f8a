"""Errors that name what was wrong and where, so a trader can find the bad byte."""

from __future__ import annotations


class PayloadError(ValueError):
    """A payload (API response, file, product) that cannot be parsed as documented.

    ``source`` is the endpoint, file or product it came from; ``field`` and ``ticker`` narrow it
    down to the offending value where that is known.
    """

    def __init__(self, source: str, message: str, *, field: str | None = None, ticker: str | None = None):
        self.source = source
        self.field = field
        self.ticker = ticker
        where = [source]
        if ticker:
            where.append(f"ticker {ticker}")
        if field:
            where.append(f"field '{field}'")
        super().__init__(f"{', '.join(where)}: {message}")


class ConfigError(ValueError):
    """A configuration file or environment variable that is missing or invalid."""
