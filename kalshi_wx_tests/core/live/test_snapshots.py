"""Snapshot rows from books, the integer buffer that becomes exact decimal columns, and the seed's JSONL rows."""

from __future__ import annotations

from decimal import Decimal

import polars as pl
import pytest

from kalshi_wx.core.errors import PayloadError
from kalshi_wx.core.live.book import OrderBook
from kalshi_wx.core.live.snapshots import (
    CANONICAL_COLUMNS,
    SNAPSHOT_COLUMNS,
    SnapshotBuffer,
    canonical_frame,
    canonical_records,
    snapshot_row,
)

D = Decimal


def _book(ticker="M", yes=(("0.41", "5"), ("0.40", "10"), ("0.39", "1")), no=(("0.545", "7.25"),)) -> OrderBook:
    book = OrderBook(ticker)
    book.apply_snapshot([(D(p), D(s)) for p, s in yes], [(D(p), D(s)) for p, s in no], seq=12)
    return book


def test_rows_become_exact_decimal_columns():
    buffer = SnapshotBuffer()
    buffer.append(1_000, snapshot_row(_book(), depth=2))
    buffer.append(1_100, snapshot_row(_book("E", yes=()), depth=2))
    frame = buffer.take()
    assert dict(frame.schema) == SNAPSHOT_COLUMNS and len(buffer) == 0
    first, empty = frame.rows(named=True)
    assert first["yes_bid"] == D("0.41") and first["yes_ask"] == D("0.455")
    assert (first["no_bid"], first["no_ask"]) == (D("0.545"), D("0.59"))
    assert first["spread"] == D("0.045") and first["yes_mid"] == D("0.4325")
    assert (first["yes_bid_size"], first["yes_ask_size"]) == (D(5), D("7.25"))
    assert first["yes_bid_prices"] == [D("0.41"), D("0.40")] and first["yes_bid_sizes"] == [D(5), D(10)]
    assert first["yes_ask_prices"] == [D("0.455")] and first["yes_ask_sizes"] == [D("7.25")]
    assert (first["seq"], first["update_ts_ms"]) == (12, None)
    assert empty["yes_bid"] is None and empty["yes_mid"] is None and empty["spread"] is None
    assert empty["yes_bid_prices"] == [] and empty["yes_ask_prices"] == [D("0.455")]


def test_mid_of_subpenny_prices_rounds_half_even_to_the_column_scale():
    book = _book(yes=(("0.000001", "1"),), no=(("0.999998", "1"),))  # YES 0.000001 / 0.000002: mid 0.0000015
    frame = SnapshotBuffer()
    frame.append(1, snapshot_row(book, 1))
    assert frame.take()["yes_mid"][0] == D("0.000002")


def test_more_decimals_than_recorded_are_refused_not_rounded():
    with pytest.raises(ValueError, match=r"M: 0.1234567 has more than 6 decimal places"):
        snapshot_row(_book(yes=(("0.1234567", "1"),)), 1)


def test_many_rows_convert_in_chunks_and_keep_their_order():
    buffer = SnapshotBuffer()
    rows = [snapshot_row(_book(f"M{i % 7}"), 3) for i in range(7)]
    for i in range(5_000):
        buffer.append(i, rows[i % 7])
    frame = buffer.take()
    assert frame.height == 5_000 and frame["ts_ms"].to_list() == list(range(5_000))
    assert frame["market_ticker"][4_999] == f"M{4_999 % 7}"
    assert frame["yes_bid_prices"].list.len().unique().to_list() == [3]


def test_canonical_jsonl_rows_round_trip():
    buffer = SnapshotBuffer()
    buffer.append(1_786_000_000_000, snapshot_row(_book(), 5))
    frame = buffer.take()
    [record] = list(canonical_records(frame))
    assert record == {
        "ts_ms": 1_786_000_000_000, "market_ticker": "M", "yes_bid": "0.4100", "yes_ask": "0.4550",
        "no_bid": "0.5450", "no_ask": "0.5900", "yes_mid": "0.4325", "spread": "0.0450",
    }  # fmt: skip
    back = canonical_frame([(1, record)], source="x.jsonl", unit="dollars")
    assert dict(back.schema) == SNAPSHOT_COLUMNS
    assert back.select(CANONICAL_COLUMNS).equals(frame.select(CANONICAL_COLUMNS))
    assert back["seq"][0] is None and back["yes_bid_prices"][0] is None


def test_canonical_import_reads_cents_and_floats_exactly_and_names_bad_lines():
    frame = canonical_frame(
        [(1, {"ts_ms": 5, "market_ticker": "M", "yes_bid": 41, "yes_ask": 45.5, "spread": 4.5})],
        source="old.jsonl", unit="cents",
    )  # fmt: skip
    assert frame.row(0, named=True)["yes_ask"] == D("0.455") and frame["spread"][0] == D("0.045")
    floats = canonical_frame([(1, {"ts_ms": 5, "market_ticker": "M", "yes_bid": 0.56})], source="f", unit="dollars")
    assert floats["yes_bid"][0] == D("0.56")
    with pytest.raises(PayloadError, match=r"old.jsonl:7, ticker M, field 'yes_bid': 1.5 is not a price in dollars"):
        canonical_frame([(7, {"ts_ms": 5, "market_ticker": "M", "yes_bid": 1.5})], source="old.jsonl", unit="dollars")
    with pytest.raises(PayloadError, match=r"old.jsonl:3, field 'ts_ms': required field is missing"):
        canonical_frame([(3, {"market_ticker": "M"})], source="old.jsonl", unit="dollars")
    with pytest.raises(PayloadError, match=r"old.jsonl:4, ticker M, field 'ts_ms': expected epoch milliseconds"):
        canonical_frame([(4, {"market_ticker": "M", "ts_ms": "5"})], source="old.jsonl", unit="dollars")
    assert canonical_frame([], source="e", unit="dollars").schema == pl.Schema(SNAPSHOT_COLUMNS)
