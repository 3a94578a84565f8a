"""Order-book snapshot rows: what the recorder writes every ``snapshot_ms`` for each valid book.

One row per market per tick: the touch in YES and NO terms, mid, spread, sizes at the touch, the
first ``depth`` bid levels of each side (YES asks are the NO bids seen from the YES side) and the
book's ``seq``. ``ts_ms`` is the recorder's clock when it read the book, so a row says "this is
the book the recorder held at ts_ms". The seed's canonical JSONL format carries the first eight columns; rows
imported from it have the others null.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

import polars as pl
import pyarrow as pa

from kalshi_wx.core.dtypes import COUNT, PRICE, ColumnTypes
from kalshi_wx.core.errors import PayloadError
from kalshi_wx.core.fixed_point import ONE, ZERO
from kalshi_wx.core.live.book import OrderBook

SNAPSHOT_COLUMNS: ColumnTypes = {
    "ts_ms": pl.Int64,
    "market_ticker": pl.Utf8,
    "yes_bid": PRICE,
    "yes_ask": PRICE,
    "no_bid": PRICE,
    "no_ask": PRICE,
    "yes_mid": PRICE,
    "spread": PRICE,
    "yes_bid_size": COUNT,
    "yes_ask_size": COUNT,
    "yes_bid_prices": pl.List(PRICE),  # best first; index 0 is the touch
    "yes_bid_sizes": pl.List(COUNT),
    "yes_ask_prices": pl.List(PRICE),
    "yes_ask_sizes": pl.List(COUNT),
    "seq": pl.Int64,  # of the last message applied to the book (per sid, so it restarts after a reconnect)
    "update_ts_ms": pl.Int64,  # exchange ts_ms of the last delta applied; null right after a snapshot
}
CANONICAL_COLUMNS = ("ts_ms", "market_ticker", "yes_bid", "yes_ask", "no_bid", "no_ask", "yes_mid", "spread")
PRICE_COLUMNS = ("yes_bid", "yes_ask", "no_bid", "no_ask", "yes_mid", "spread")
_PRICE_PLACES, _COUNT_PLACES = 6, 2  # PRICE and COUNT hold this many decimals
_SCALAR_COUNTS = ("yes_bid_size", "yes_ask_size")
_LISTS = (
    ("yes_bid_prices", _PRICE_PLACES),
    ("yes_bid_sizes", _COUNT_PLACES),
    ("yes_ask_prices", _PRICE_PLACES),
    ("yes_ask_sizes", _COUNT_PLACES),
)
_CHUNK_ROWS = 2048


def _units(value: Decimal, places: int, ticker: str) -> int:
    """``value`` in units of 10**-places, exactly; a value with more decimals than the column holds is refused."""
    scaled = value.scaleb(places)
    units = int(scaled)
    if units != scaled:
        raise ValueError(f"{ticker}: {value} has more than {places} decimal places, the recorded precision")
    return units


@dataclass(frozen=True, slots=True)
class SnapshotRow:
    """A row without its ``ts_ms``, in fixed-point integers: prices in millionths of a dollar, sizes in
    hundredths of a contract (the scales of PRICE and COUNT). A book that has not changed gives the
    same row again, so the recorder builds it once per book version."""

    market_ticker: str
    yes_bid: int | None
    yes_ask: int | None
    no_bid: int | None
    no_ask: int | None
    yes_mid: int | None
    spread: int | None
    yes_bid_size: int | None
    yes_ask_size: int | None
    yes_bid_prices: tuple[int, ...]
    yes_bid_sizes: tuple[int, ...]
    yes_ask_prices: tuple[int, ...]
    yes_ask_sizes: tuple[int, ...]
    seq: int | None
    update_ts_ms: int | None


def _half_even(twice: int) -> int:
    """``twice / 2`` rounded half to even (the mid of two prices in millionths)."""
    half, odd = divmod(twice, 2)
    return half + (half & 1) if odd else half


def snapshot_row(book: OrderBook, depth: int) -> SnapshotRow:
    """The row of ``book`` (which the caller has checked is valid) with ``depth`` levels per side."""
    ticker = book.market_ticker
    bids = book.bids("yes", depth)
    asks = book.yes_asks(depth)
    bid = _units(bids[0].price, _PRICE_PLACES, ticker) if bids else None
    ask = _units(asks[0].price, _PRICE_PLACES, ticker) if asks else None
    one = 10**_PRICE_PLACES
    return SnapshotRow(
        ticker,
        bid,
        ask,
        None if ask is None else one - ask,
        None if bid is None else one - bid,
        None if bid is None or ask is None else _half_even(bid + ask),
        None if bid is None or ask is None else ask - bid,
        _units(bids[0].size, _COUNT_PLACES, ticker) if bids else None,
        _units(asks[0].size, _COUNT_PLACES, ticker) if asks else None,
        tuple(_units(level.price, _PRICE_PLACES, ticker) for level in bids),
        tuple(_units(level.size, _COUNT_PLACES, ticker) for level in bids),
        tuple(_units(level.price, _PRICE_PLACES, ticker) for level in asks),
        tuple(_units(level.size, _COUNT_PLACES, ticker) for level in asks),
        book.seq,
        book.update_ts_ms,
    )


def empty_snapshots() -> pl.DataFrame:
    return pl.DataFrame(schema=SNAPSHOT_COLUMNS)


def _decimal(series: pl.Series, places: int) -> pl.Series:
    dtype = PRICE if places == _PRICE_PLACES else COUNT
    return (series.cast(pl.Decimal(38, 0)) * Decimal(1).scaleb(-places)).cast(dtype)


class SnapshotBuffer:
    """Rows of one open interval, turned into polars chunks a couple of thousand at a time.

    Rows arrive as integers and are converted to the exact decimal columns in vectorised chunks:
    building decimals from Python ``Decimal`` objects row by row costs a hundred times more, and
    the recorder's tick must never stall on one big conversion.
    """

    def __init__(self) -> None:
        self._chunks: list[pl.DataFrame] = []
        self._rows = 0
        self._reset()

    def _reset(self) -> None:
        self._ts: list[int] = []
        self._tickers: list[str] = []
        self._scalars: dict[str, list[int | None]] = {n: [] for n in (*PRICE_COLUMNS, *_SCALAR_COUNTS)}
        self._seq: list[int | None] = []
        self._update: list[int | None] = []
        self._values: dict[str, list[int]] = {n: [] for n, _ in _LISTS}
        self._offsets: list[int] = [0]
        self._ask_offsets: list[int] = [0]

    def __len__(self) -> int:
        return self._rows

    def append(self, ts_ms: int, row: SnapshotRow) -> None:
        self._ts.append(ts_ms)
        self._tickers.append(row.market_ticker)
        scalars = self._scalars
        scalars["yes_bid"].append(row.yes_bid)
        scalars["yes_ask"].append(row.yes_ask)
        scalars["no_bid"].append(row.no_bid)
        scalars["no_ask"].append(row.no_ask)
        scalars["yes_mid"].append(row.yes_mid)
        scalars["spread"].append(row.spread)
        scalars["yes_bid_size"].append(row.yes_bid_size)
        scalars["yes_ask_size"].append(row.yes_ask_size)
        values = self._values
        values["yes_bid_prices"].extend(row.yes_bid_prices)
        values["yes_bid_sizes"].extend(row.yes_bid_sizes)
        values["yes_ask_prices"].extend(row.yes_ask_prices)
        values["yes_ask_sizes"].extend(row.yes_ask_sizes)
        # The bid and ask lists of a row may differ in length, so each list has its own offsets.
        self._offsets.append(len(values["yes_bid_prices"]))
        self._ask_offsets.append(len(values["yes_ask_prices"]))
        self._seq.append(row.seq)
        self._update.append(row.update_ts_ms)
        self._rows += 1
        if len(self._ts) >= _CHUNK_ROWS:
            self._convert()

    def _convert(self) -> None:
        if not self._ts:
            return
        columns: dict[str, pl.Series] = {
            "ts_ms": pl.Series(self._ts, dtype=pl.Int64),
            "market_ticker": pl.Series(self._tickers, dtype=pl.Utf8),
        }
        for name in PRICE_COLUMNS:
            columns[name] = _decimal(pl.Series(self._scalars[name], dtype=pl.Int64), _PRICE_PLACES)
        for name in _SCALAR_COUNTS:
            columns[name] = _decimal(pl.Series(self._scalars[name], dtype=pl.Int64), _COUNT_PLACES)
        for name, places in _LISTS:
            offsets = self._offsets if name.startswith("yes_bid") else self._ask_offsets
            flat = _decimal(pl.Series(self._values[name], dtype=pl.Int64), places).to_arrow()
            columns[name] = pl.Series(name, pa.ListArray.from_arrays(pa.array(offsets, pa.int32()), flat))
        columns["seq"] = pl.Series(self._seq, dtype=pl.Int64)
        columns["update_ts_ms"] = pl.Series(self._update, dtype=pl.Int64)
        self._chunks.append(pl.DataFrame(columns).select(list(SNAPSHOT_COLUMNS)))
        self._reset()

    def take(self) -> pl.DataFrame:
        """Every row appended since the last ``take``, as one frame; the buffer is empty afterwards."""
        self._convert()
        chunks, self._chunks, self._rows = self._chunks, [], 0
        if not chunks:
            return empty_snapshots()
        return pl.concat(chunks, rechunk=True)


# --- the seed's canonical JSONL rows --------------------------------------------------------------------

PriceUnit = Literal["dollars", "cents"]


def _dollar_text(value: Decimal) -> str:
    """Kalshi's style: at least 4 decimals (``0.5600``), more only when the price has them."""
    normal = value.normalize()
    exponent = normal.as_tuple().exponent
    return f"{normal:.4f}" if isinstance(exponent, int) and exponent >= -4 else f"{normal:f}"


def canonical_records(frame: pl.DataFrame) -> Iterator[dict[str, Any]]:
    """One JSON-ready dict per row with the canonical keys; prices as dollar strings, null when absent."""
    for row in frame.select(CANONICAL_COLUMNS).iter_rows(named=True):
        yield {
            name: (None if value is None else _dollar_text(value)) if name in PRICE_COLUMNS else value
            for name, value in row.items()
        }


def _canonical_price(value: Any, unit: PriceUnit, *, source: str, field: str, ticker: str | None) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise PayloadError(source, f"expected a price, got {value!r}", field=field, ticker=ticker)
    try:
        # str() of a float is its shortest round-trip text, so 0.56 stays 0.56 rather than 0.560000000000000053
        price = Decimal(str(value).strip())
    except InvalidOperation:
        raise PayloadError(source, f"not a number: {value!r}", field=field, ticker=ticker) from None
    if unit == "cents":
        price /= 100
    low = -ONE if field == "spread" else ZERO  # a crossed row has a negative spread: keep it, the checks flag it
    if not price.is_finite() or not low <= price <= ONE:
        raise PayloadError(source, f"{value!r} is not a price in {unit}", field=field, ticker=ticker)
    return price


def canonical_frame(records: Iterable[tuple[int, Mapping[str, Any]]], *, source: str, unit: PriceUnit) -> pl.DataFrame:
    """Snapshot rows from ``(line number, object)`` pairs of the canonical format.

    Errors name ``source:line``, the field and the ticker. Columns the format does not carry are null.
    """
    columns: dict[str, list[Any]] = {name: [] for name in CANONICAL_COLUMNS}
    for line, obj in records:
        where = f"{source}:{line}"
        if not isinstance(obj, Mapping):
            raise PayloadError(where, f"expected a JSON object, got {type(obj).__name__}")
        missing = [name for name in ("ts_ms", "market_ticker") if obj.get(name) is None]
        if missing:
            raise PayloadError(where, "required field is missing", field=missing[0])
        ticker, ts_ms = obj["market_ticker"], obj["ts_ms"]
        if not isinstance(ticker, str) or not ticker:
            raise PayloadError(where, f"expected a ticker, got {ticker!r}", field="market_ticker")
        if isinstance(ts_ms, bool) or not isinstance(ts_ms, int) or ts_ms <= 0:
            raise PayloadError(where, f"expected epoch milliseconds, got {ts_ms!r}", field="ts_ms", ticker=ticker)
        columns["ts_ms"].append(ts_ms)
        columns["market_ticker"].append(ticker)
        for name in PRICE_COLUMNS:
            columns[name].append(_canonical_price(obj.get(name), unit, source=where, field=name, ticker=ticker))
    frame = pl.DataFrame(columns, schema={name: SNAPSHOT_COLUMNS[name] for name in CANONICAL_COLUMNS})
    return frame.with_columns(
        pl.lit(None, dtype=dtype).alias(name) for name, dtype in SNAPSHOT_COLUMNS.items() if name not in frame.columns
    ).select(list(SNAPSHOT_COLUMNS))
