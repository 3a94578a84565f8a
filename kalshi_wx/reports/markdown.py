"""Markdown tables for Dagster metadata, the same for every asset that shows one."""

from __future__ import annotations

import polars as pl


def _cell(value: object) -> str:
    if value is None:
        return ""
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def markdown_table(frame: pl.DataFrame) -> str:
    """The frame as a markdown table: its column names as the header, floats to 4 decimals, nulls blank."""
    lines = ["| " + " | ".join(frame.columns) + " |", "|" + "---|" * frame.width]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in frame.iter_rows()]
    return "\n".join(lines)
