"""``kalshi-wx record``: order-book snapshots of whole series from Kalshi's WebSocket, every ``snapshot_ms``.

The recorder composes the layers below it: REST discovery (``KalshiClient``) and the WebSocket
(``KalshiWebSocket``) from ``sources``, books and snapshot rows from ``core.live``, part files from
``warehouse.highres``. One asyncio loop runs four things:

* the WebSocket client, subscribed to ``orderbook_delta`` for each series' open markets and to
  ``market_lifecycle_v2`` for every market, so a new market (a 15-minute series opens ~96 a day) is
  added the moment it is created;
* a REST discovery poll (``GET /markets?series_ticker=..&status=open``) that catches anything the
  lifecycle stream missed, e.g. while disconnected;
* the tick: on every multiple of ``snapshot_ms`` of the clock, one row per market whose book is
  valid, stamped with the clock when the book was read;
* the part writer: at every multiple of ``part_seconds`` the interval's rows, with what was counted
  in it, become one Parquet part (written atomically on a worker thread).

A crash loses the open interval and nothing else; SIGINT / SIGTERM write the open interval first.
A book is kept out of the rows from a sequence gap, a reconnect, a delta it cannot take or a cross
until its fresh snapshot arrives; each of those is counted with the interval.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import signal
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kalshi_wx.core.errors import PayloadError
from kalshi_wx.core.live.book import BookError, OrderBook
from kalshi_wx.core.live.recording import COUNTERS, recording_day
from kalshi_wx.core.live.snapshots import SnapshotBuffer, SnapshotRow, snapshot_row
from kalshi_wx.core.payloads.kalshi_ws import (
    DataMessage,
    ErrorReply,
    MarketLifecycle,
    OrderbookDelta,
    OrderbookSnapshot,
)
from kalshi_wx.core.timestamps import parse_time
from kalshi_wx.sources.kalshi.auth import KalshiSigner
from kalshi_wx.sources.kalshi.client import KalshiClient
from kalshi_wx.sources.kalshi.ws import (
    BOOK_CHANNEL,
    KalshiWebSocket,
    KalshiWsError,
    ReconnectPolicy,
    Subscription,
    WsHandler,
)
from kalshi_wx.warehouse import highres

if TYPE_CHECKING:
    from kalshi_wx.sources.sim.common import SimConfig

log = logging.getLogger(__name__)

_MAX_EVENTS_PER_PART = 100
_OPENING = frozenset({"created", "activated"})
_ENDING = frozenset({"determined", "settled"})


@dataclass(frozen=True)
class SeriesTarget:
    """A series to record, and the UTC offset of its recording day (0: UTC; a weather series: its city's)."""

    ticker: str
    utc_offset_hours: int = 0


@dataclass(frozen=True)
class RecorderSettings:
    series: tuple[SeriesTarget, ...]
    root: Path  # $KALSHI_WX_HOME
    ws_url: str
    api_base: str
    snapshot_ms: int = 100
    depth: int = 5
    part_seconds: int = 60
    discovery_s: float = 60.0
    signer: KalshiSigner | None = None
    reconnect: ReconnectPolicy = ReconnectPolicy()

    def __post_init__(self) -> None:
        if not self.series:
            raise ValueError("no series to record")
        if len({s.ticker for s in self.series}) != len(self.series):
            raise ValueError(f"a series is listed twice: {', '.join(s.ticker for s in self.series)}")
        if self.snapshot_ms < 10:
            raise ValueError(f"snapshot_ms {self.snapshot_ms} is below 10 ms")
        if self.part_seconds < 1 or 3600 % self.part_seconds:
            raise ValueError(f"part_seconds {self.part_seconds} must divide an hour, so parts never straddle days")
        if (self.part_seconds * 1000) % self.snapshot_ms:
            raise ValueError(f"snapshot_ms {self.snapshot_ms} must divide part_seconds {self.part_seconds} x 1000")
        if self.depth < 1:
            raise ValueError(f"depth {self.depth} must be >= 1")


@dataclass
class _Series:
    """One recorded series: its markets, the open interval's rows and what was counted in it."""

    target: SeriesTarget
    markets: dict[str, tuple[int, int]] = field(default_factory=dict)  # ticker -> (open_ms, close_ms)
    subscription: Subscription | None = None
    buffer: SnapshotBuffer = field(default_factory=SnapshotBuffer)
    interval_start_ms: int | None = None
    counters: Counter[str] = field(default_factory=Counter)
    events: list[dict[str, Any]] = field(default_factory=list)
    seen: dict[str, tuple[int, int]] = field(default_factory=dict)  # markets of the open interval
    rows_total: int = 0
    parts_total: int = 0
    totals: Counter[str] = field(default_factory=Counter)

    def note(self, ts_ms: int, kind: str, detail: str) -> None:
        self.counters[kind] += 1
        if len(self.events) < _MAX_EVENTS_PER_PART:
            self.events.append({"ts_ms": ts_ms, "kind": kind, "detail": detail})


@dataclass(frozen=True)
class RecorderSummary:
    rows: dict[str, int]
    parts: dict[str, int]
    counters: dict[str, dict[str, int]]
    directory: Path


def _ms(value: Any, *, field: str, ticker: str) -> int | None:
    moment = parse_time(value, source="kalshi GET /markets", field=field, ticker=ticker)
    return None if moment is None else int(moment.timestamp() * 1000)


class Recorder(WsHandler):
    """Records ``settings.series`` until ``run``'s stop event is set. ``clock`` gives epoch seconds."""

    def __init__(
        self,
        settings: RecorderSettings,
        *,
        clock: Callable[[], float] = time.time,
        on_part: Callable[[str], None] | None = None,
    ):
        self.settings = settings
        self._clock = clock
        self._on_part = on_part
        self._series = {s.ticker: _Series(s) for s in settings.series}
        self._books: dict[str, OrderBook] = {}
        self._series_of: dict[str, _Series] = {}
        self._rows: dict[str, tuple[int, SnapshotRow]] = {}  # ticker -> (book version, row)
        self._resnapshot_pending: set[str] = set()
        self._writer = f"r{int(clock() * 1000)}p{os.getpid()}"
        self._writes: set[asyncio.Task[Any]] = set()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._connections = 0
        self.ws: KalshiWebSocket | None = None
        self._rest = KalshiClient(settings.api_base, signer=settings.signer)

    # -- public ----------------------------------------------------------------------------------------

    def books(self) -> dict[str, OrderBook]:
        return self._books

    async def run(self, stop: asyncio.Event) -> RecorderSummary:
        locks = [highres.SeriesLock(self.settings.root, s).acquire() for s in self._series]
        try:
            for ticker in self._series:
                if removed := highres.remove_temp_files(self.settings.root, ticker):
                    log.info("%s: removed %d temporary file(s) a crashed writer left", ticker, removed)
            await self._discover()
            self.ws = ws = KalshiWebSocket(
                self.settings.ws_url, self, signer=self.settings.signer, policy=self.settings.reconnect
            )
            for state in self._series.values():
                state.subscription = await ws.subscribe(BOOK_CHANNEL, state.markets)
            await ws.subscribe("market_lifecycle_v2")
            client = asyncio.create_task(ws.run(), name="kalshi-ws")
            loops = [
                asyncio.create_task(self._tick_loop(), name="snapshot-tick"),
                asyncio.create_task(self._discovery_loop(), name="rest-discovery"),
            ]
            stopped: asyncio.Task[Any] = asyncio.create_task(stop.wait())
            done, _ = await asyncio.wait({stopped, client, *loops}, return_when=asyncio.FIRST_COMPLETED)
            for task in loops:
                task.cancel()
            await asyncio.gather(*loops, return_exceptions=True)
            await ws.close()
            await asyncio.gather(client, return_exceptions=True)
            stopped.cancel()
            for state in self._series.values():
                self._flush(state)
            if self._writes:
                await asyncio.gather(*self._writes)
            for task in done:  # a task other than the stop event ended: that is a bug, not a stop
                error = None if task is stopped or task.cancelled() else task.exception()
                if error is not None:
                    raise error
        finally:
            for lock in locks:
                lock.release()
            self._rest.close()
        return self.summary()

    def summary(self) -> RecorderSummary:
        return RecorderSummary(
            rows={t: s.rows_total for t, s in self._series.items()},
            parts={t: s.parts_total for t, s in self._series.items()},
            counters={t: {k: s.totals[k] for k in COUNTERS} for t, s in self._series.items()},
            directory=self.settings.root / highres.HIGHRES_DIR,
        )

    # -- markets ---------------------------------------------------------------------------------------

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _state_for(self, ticker: str) -> _Series | None:
        return self._series.get(ticker.partition("-")[0])

    async def _discover(self) -> None:
        """Open markets of every series from REST; failures are logged, the lifecycle stream still adds markets."""
        for ticker, state in self._series.items():
            try:
                markets = await asyncio.to_thread(self._rest.get_markets, series_ticker=ticker, status="open")
                found = {
                    m["ticker"]: (
                        _ms(m.get("open_time"), field="open_time", ticker=m["ticker"]) or 0,
                        _ms(m.get("close_time"), field="close_time", ticker=m["ticker"]) or 2**62,
                    )
                    for m in markets
                    if isinstance(m.get("ticker"), str)
                }
            except (OSError, PayloadError, ValueError) as exc:
                log.warning("%s: market discovery failed (%s); relying on the lifecycle stream", ticker, exc)
                continue
            now_ms = int(self._clock() * 1000)
            await self._add(state, {t: w for t, w in found.items() if w[1] > now_ms})

    async def _add(self, state: _Series, markets: dict[str, tuple[int, int]]) -> None:
        new = {t: w for t, w in markets.items() if t not in state.markets}
        for ticker, window in markets.items():
            state.markets[ticker] = window
        if not new:
            return
        for ticker in new:
            self._books[ticker] = OrderBook(ticker)
            self._series_of[ticker] = state
        log.info("%s: recording %d new market(s): %s", state.target.ticker, len(new), ", ".join(sorted(new)))
        if self.ws is not None and state.subscription is not None:
            await self.ws.add_markets(state.subscription, new)

    async def _remove(self, state: _Series, tickers: Iterable[str]) -> None:
        gone = [t for t in tickers if t in state.markets]
        for ticker in gone:
            state.markets.pop(ticker)
            self._books.pop(ticker, None)
            self._series_of.pop(ticker, None)
            self._rows.pop(ticker, None)
        if gone and self.ws is not None and state.subscription is not None:
            log.info("%s: closed, no longer recorded: %s", state.target.ticker, ", ".join(gone))
            await self.ws.remove_markets(state.subscription, gone)

    async def _discovery_loop(self) -> None:
        while True:
            await asyncio.sleep(self.settings.discovery_s)
            await self._discover()
            for state in self._series.values():
                await self._resubscribe(state)

    def _request_snapshot(self, ticker: str) -> None:
        state = self._series_of.get(ticker)
        if state is None or state.subscription is None or self.ws is None or ticker in self._resnapshot_pending:
            return
        self._resnapshot_pending.add(ticker)
        state.counters["resnapshots"] += 1
        self._spawn(self.ws.request_snapshot(state.subscription, [ticker]))

    # -- WsHandler -------------------------------------------------------------------------------------

    def on_message(self, message: DataMessage, subscription: Subscription) -> None:
        if isinstance(message, OrderbookDelta):
            book = self._books.get(message.market_ticker)
            if book is None or not book.has_snapshot:
                return  # not recorded, or waiting for its snapshot
            try:
                book.apply_delta(message.side, message.price, message.delta, seq=message.seq, ts_ms=message.ts_ms)
            except BookError as exc:
                self._series_of[message.market_ticker].note(self._now_ms(), "book_errors", str(exc))
                self._request_snapshot(message.market_ticker)
        elif isinstance(message, OrderbookSnapshot):
            book = self._books.get(message.market_ticker)
            if book is None:
                return
            self._resnapshot_pending.discard(message.market_ticker)
            try:
                book.apply_snapshot(message.yes, message.no, seq=message.seq)
            except BookError as exc:
                self._series_of[message.market_ticker].note(self._now_ms(), "book_errors", str(exc))
                book.invalidate()
        elif isinstance(message, MarketLifecycle):
            self._lifecycle(message)

    def _lifecycle(self, message: MarketLifecycle) -> None:
        state = self._state_for(message.market_ticker)
        if state is None:
            return
        ticker = message.market_ticker
        if message.event_type in _OPENING and message.close_ts is not None:
            window = ((message.open_ts or 0) * 1000, message.close_ts * 1000)
            if window[1] > self._now_ms():
                self._spawn(self._add(state, {ticker: window}))
        elif message.event_type == "close_date_updated" and message.close_ts is not None and ticker in state.markets:
            state.markets[ticker] = (state.markets[ticker][0], message.close_ts * 1000)
        elif message.event_type in _ENDING:
            self._spawn(self._remove(state, [ticker]))

    def on_stream_fault(self, subscription: Subscription, kind: str, detail: str) -> None:
        state = self._subscription_state(subscription)
        if state is not None:
            state.note(self._now_ms(), {"gap": "gaps", "duplicate": "duplicates"}.get(kind, kind), detail)

    def on_books_invalid(self, subscription: Subscription, market_tickers: Sequence[str], reason: str) -> None:
        for ticker in market_tickers:
            book = self._books.get(ticker)
            if book is not None:
                book.invalidate()
        state = self._subscription_state(subscription)
        if state is not None and reason != "reconnect":
            state.counters["resnapshots"] += len(market_tickers)

    def on_connection(self, connected: bool, reason: str) -> None:
        now_ms = self._now_ms()
        if connected:
            self._connections += 1
            self._resnapshot_pending.clear()
            if self._connections > 1:
                for state in self._series.values():
                    state.note(now_ms, "reconnects", "reconnected and resubscribed")
        elif self.ws is not None and not self.ws.closing:
            for state in self._series.values():
                if len(state.events) < _MAX_EVENTS_PER_PART:
                    state.events.append({"ts_ms": now_ms, "kind": "disconnect", "detail": reason})

    def on_error(self, error: ErrorReply, command: dict[str, Any] | None) -> None:
        for state in self._series.values():
            if len(state.events) < _MAX_EVENTS_PER_PART:
                state.events.append({"ts_ms": self._now_ms(), "kind": "error", "detail": str(error)})
            if state.subscription is not None and not state.subscription.active:
                self._spawn(self._resubscribe(state))

    async def _resubscribe(self, state: _Series) -> None:
        """Kalshi refused a series' book subscription (e.g. a market closed in between): ask again with
        the markets REST lists as open now; if that is refused too, the discovery loop tries again."""
        if self.ws is None or state.subscription is None or state.subscription.active:
            return
        await self._discover()
        try:
            state.subscription = await self.ws.subscribe(BOOK_CHANNEL, state.markets)
        except KalshiWsError as exc:
            log.error("%s: the order-book subscription was refused again: %s", state.target.ticker, exc)

    def _subscription_state(self, subscription: Subscription) -> _Series | None:
        return next((s for s in self._series.values() if s.subscription is subscription), None)

    # -- ticks and parts ---------------------------------------------------------------------------------

    def _now_ms(self) -> int:
        return int(self._clock() * 1000)

    async def _tick_loop(self) -> None:
        step = self.settings.snapshot_ms
        next_ms = (self._now_ms() // step + 1) * step
        while True:
            delay = next_ms / 1000 - self._clock()
            if delay > 0:
                await asyncio.sleep(delay)
            now_ms = self._now_ms()
            late = (now_ms - next_ms) // step
            if late >= 1:  # a stalled loop skips the missed ticks rather than bursting through them
                for state in self._series.values():
                    state.counters["late_ticks"] += late
                next_ms += late * step
            self._prune(now_ms)
            self.snapshot(now_ms)
            next_ms += step

    def _prune(self, now_ms: int) -> None:
        for state in self._series.values():
            closed = [t for t, (_, close_ms) in state.markets.items() if close_ms <= now_ms]
            if closed:
                self._spawn(self._remove(state, closed))

    def snapshot(self, ts_ms: int) -> None:
        """One row per valid book, stamped ``ts_ms``; closes the interval when ``ts_ms`` is past it."""
        part_ms = self.settings.part_seconds * 1000
        interval = ts_ms - ts_ms % part_ms
        depth = self.settings.depth
        for state in self._series.values():
            if state.interval_start_ms is None:
                state.interval_start_ms = interval
            elif interval != state.interval_start_ms:
                self._flush(state)
                state.interval_start_ms = interval
            for ticker, window in state.markets.items():
                book = self._books.get(ticker)
                if book is None or not book.has_snapshot or window[1] <= ts_ms:  # closed: trading has stopped
                    continue
                if book.is_crossed:
                    state.note(ts_ms, "crossed", "; ".join(book.problems()))
                    self._request_snapshot(ticker)
                    continue
                cached = self._rows.get(ticker)
                if cached is None or cached[0] != book.version:
                    try:
                        cached = (book.version, snapshot_row(book, depth))
                    except ValueError as exc:  # a price or size finer than the recorded precision
                        state.note(ts_ms, "book_errors", str(exc))
                        continue
                    self._rows[ticker] = cached
                state.buffer.append(ts_ms, cached[1])
                state.seen[ticker] = window

    def _flush(self, state: _Series) -> None:
        """Close the open interval of ``state``: its rows and counters become a part, written on a thread."""
        start = state.interval_start_ms
        if start is None:
            return
        frame = state.buffer.take()
        counters = {k: v for k, v in state.counters.items() if v}
        state.totals.update(state.counters)
        if frame.is_empty() and not counters:
            state.counters.clear()
            state.events.clear()
            return
        ticker = state.target.ticker
        end = start + self.settings.part_seconds * 1000
        recording = {
            "series": ticker,
            "writer": self._writer,
            "source": "recorder",
            "interval_start_ms": start,
            "interval_end_ms": end,
            "snapshot_ms": self.settings.snapshot_ms,
            "depth": self.settings.depth,
            "utc_offset_hours": state.target.utc_offset_hours,
            "counters": counters,
            "events": state.events,
            "markets": {t: list(w) for t, w in sorted(state.seen.items())},
        }
        day = recording_day(start, state.target.utc_offset_hours)
        state.counters, state.events, state.seen = Counter(), [], {}
        state.rows_total += frame.height
        state.parts_total += 1
        directory = highres.day_dir(self.settings.root, ticker, day)
        name = highres.part_name(start, self._writer)
        task = asyncio.ensure_future(asyncio.to_thread(highres.write_part, directory, name, frame, recording))
        self._writes.add(task)
        task.add_done_callback(self._writes.discard)
        task.add_done_callback(
            functools.partial(self._written, series=ticker, day=day, name=name, rows=frame.height, counters=counters)
        )

    def _written(
        self, task: asyncio.Task[Any], *, series: str, day: date, name: str, rows: int, counters: dict[str, int]
    ) -> None:
        if task.cancelled() or task.exception() is not None:
            log.error("%s: part %s of %s was not written: %s", series, name, day, task.exception())
            return
        counted = ", ".join(f"{k} {v}" for k, v in sorted(counters.items())) or "nothing counted"
        line = f"{series} {day}: {name} {rows} rows ({counted})"
        log.info(line)
        if self._on_part is not None:
            self._on_part(line)


async def record(
    settings: RecorderSettings,
    *,
    duration_s: float | None = None,
    stop: asyncio.Event | None = None,
    on_part: Callable[[str], None] | None = None,
) -> RecorderSummary:
    """Run a recorder until SIGINT / SIGTERM, ``stop``, or ``duration_s`` seconds."""
    loop = asyncio.get_running_loop()
    stop = stop or asyncio.Event()
    handled = []
    for signum in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(signum, stop.set)
            handled.append(signum)
        except (NotImplementedError, RuntimeError, ValueError):  # not the main thread: the caller stops us
            pass
    if duration_s is not None:
        loop.call_later(max(0.0, duration_s), stop.set)
    try:
        return await Recorder(settings, on_part=on_part).run(stop)
    finally:
        for signum in handled:
            loop.remove_signal_handler(signum)


@contextlib.contextmanager
def simulated_exchange(
    config: SimConfig, series: Sequence[str], *, deltas_per_s: float = 2.0
) -> Iterator[tuple[str, str]]:
    """The simulator's REST and WebSocket APIs on loopback, on the wall clock: (REST base, WebSocket URL)."""
    # Imported here: a recorder of the real exchange never loads the simulator.
    from kalshi_wx.sources.sim.kalshi_ws import SimWsServer
    from kalshi_wx.sources.sim.server import SimServer

    with (
        SimServer(config, clock=time.time) as rest,
        SimWsServer(config, series=series, deltas_per_s=deltas_per_s) as ws,
    ):
        yield rest.kalshi_base_url, ws.url
