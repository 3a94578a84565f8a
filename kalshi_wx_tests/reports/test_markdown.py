from __future__ import annotations

import polars as pl

from kalshi_wx.reports.markdown import markdown_table


def test_header_rule_rows_floats_and_nulls():
    frame = pl.DataFrame({"ticker": ["A", "B"], "brier": [0.123456, None], "fills": [3, 0]})
    assert markdown_table(frame).splitlines() == [
        "| ticker | brier | fills |",
        "|---|---|---|",
        "| A | 0.1235 | 3 |",
        "| B |  | 0 |",
    ]
