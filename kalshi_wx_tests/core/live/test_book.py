"""The pure order book: snapshots, deltas, the YES ask implied by NO bids, depth, and its checks."""

from __future__ import annotations

from decimal import Decimal

import pytest

from kalshi_wx.core.live.book import BookError, Level, OrderBook
from kalshi_wx.core.payloads.kalshi_ws import OrderbookDelta, OrderbookSnapshot, parse_message

D = Decimal


def _book(yes=(("0.40", "10"), ("0.41", "5")), no=(("0.55", "7"), ("0.50", "3"))) -> OrderBook:
    book = OrderBook("KXBTC15M-26NOV280445-45")
    book.apply_snapshot([(D(p), D(s)) for p, s in yes], [(D(p), D(s)) for p, s in no], seq=1)
    return book


def test_best_yes_ask_is_one_minus_the_best_no_bid_and_depth_is_best_first():
    book = _book()
    top = book.top()
    assert top.yes_bid == Level(D("0.41"), D(5)) and top.yes_ask == Level(D("0.45"), D(7))
    assert (top.no_bid, top.no_ask, top.spread, top.yes_mid) == (D("0.55"), D("0.59"), D("0.04"), D("0.43"))
    assert book.bids("yes") == (Level(D("0.41"), D(5)), Level(D("0.40"), D(10)))
    assert book.yes_asks(1) == (Level(D("0.45"), D(7)),)
    assert book.best_no_ask() == Level(D("0.59"), D(5))
    assert book.is_valid and not book.problems()


def test_deltas_add_remove_and_move_the_touch():
    book = _book()
    book.apply_delta("yes", D("0.43"), D(2), seq=2, ts_ms=100)
    assert book.top().yes_bid == Level(D("0.43"), D(2)) and (book.seq, book.update_ts_ms) == (2, 100)
    book.apply_delta("yes", D("0.43"), D(-2), seq=3)
    assert book.top().yes_bid == Level(D("0.41"), D(5)) and D("0.43") not in book.levels("yes")
    book.apply_delta("no", D("0.55"), D(-7), seq=4)
    assert book.top().yes_ask == Level(D("0.50"), D(3))
    book.apply_delta("no", D("0.50"), D(-3), seq=5)
    top = book.top()
    assert top.yes_ask is None and top.spread is None and top.yes_mid is None and book.is_valid


def test_a_delta_that_would_go_negative_invalidates_the_book():
    book = _book()
    version = book.version
    with pytest.raises(BookError, match=r"delta -6 at yes 0.41 leaves -1 contracts \(a message was missed\)"):
        book.apply_delta("yes", D("0.41"), D(-6))
    assert not book.has_snapshot and not book.is_valid and book.version > version
    with pytest.raises(BookError, match="delta before a snapshot"):
        book.apply_delta("yes", D("0.41"), D(1))
    assert book.problems() == ["KXBTC15M-26NOV280445-45: no snapshot since the book was last invalidated"]


def test_crossed_book_is_detected_and_not_valid():
    book = _book()
    book.apply_delta("yes", D("0.46"), D(1))  # YES bid 0.46 >= YES ask 0.45
    assert book.has_snapshot and book.is_crossed and not book.is_valid
    assert book.problems() == ["KXBTC15M-26NOV280445-45: crossed, YES bid 0.46 >= YES ask 0.45"]


def test_snapshot_refuses_negative_sizes_and_repeated_prices_and_drops_zero_sizes():
    with pytest.raises(BookError, match="snapshot yes size -1 at 0.40 is negative"):
        _book(yes=(("0.40", "-1"),))
    with pytest.raises(BookError, match="snapshot lists no 0.50 twice"):
        _book(no=(("0.50", "1"), ("0.50", "2")))
    assert _book(yes=(("0.40", "0"), ("0.39", "1"))).levels("yes") == {D("0.39"): D(1)}


def test_legacy_and_fixed_point_messages_build_the_same_book():
    def replay(messages):
        book = OrderBook("M")
        for raw in messages:
            m = parse_message(raw)
            if isinstance(m, OrderbookSnapshot):
                book.apply_snapshot(m.yes, m.no, seq=m.seq)
            else:
                assert isinstance(m, OrderbookDelta)
                book.apply_delta(m.side, m.price, m.delta, seq=m.seq)
        return book

    fixed = replay(
        [
            {"type": "orderbook_snapshot", "sid": 1, "seq": 1,
             "msg": {"market_ticker": "M", "yes_dollars_fp": [["0.3000", "4.00"], ["0.3100", "6.00"]],
                     "no_dollars_fp": [["0.6500", "2.00"]]}},
            {"type": "orderbook_delta", "sid": 1, "seq": 2,
             "msg": {"market_ticker": "M", "price_dollars": "0.3100", "delta_fp": "-6.00", "side": "yes"}},
            {"type": "orderbook_delta", "sid": 1, "seq": 3,
             "msg": {"market_ticker": "M", "price_dollars": "0.6600", "delta_fp": "9.00", "side": "no"}},
        ]
    )  # fmt: skip
    legacy = replay(
        [
            {"type": "orderbook_snapshot", "sid": 1, "seq": 1,
             "msg": {"market_ticker": "M", "yes": [[30, 4], [31, 6]], "no": [[65, 2]]}},
            {"type": "orderbook_delta", "sid": 1, "seq": 2,
             "msg": {"market_ticker": "M", "price": 31, "delta": -6, "side": "yes"}},
            {"type": "orderbook_delta", "sid": 1, "seq": 3,
             "msg": {"market_ticker": "M", "price": 66, "delta": 9, "side": "no"}},
        ]
    )  # fmt: skip
    assert fixed.levels("yes") == legacy.levels("yes") == {D("0.30"): D(4)}
    assert fixed.levels("no") == legacy.levels("no") == {D("0.65"): D(2), D("0.66"): D(9)}
    assert fixed.top() == legacy.top()


def test_real_rest_books_give_the_documented_touch(real_data):
    """The real depth-20 ``orderbook_fp`` captures: best YES ask = 1 - best NO bid, whatever the order."""
    import json

    path = real_data / "kalshi/ericzzhang27_Kalshi-Weather-Trading/orderbook_fp_raw_20260824T193510Z.jsonl"
    books = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    checked = 0
    for record in books:
        body = record["payload"]["orderbook_fp"]
        yes = [(D(p), D(s)) for p, s in body.get("yes_dollars") or []]
        no = [(D(p), D(s)) for p, s in body.get("no_dollars") or []]
        book = OrderBook(record["ticker"])
        book.apply_snapshot(yes, no)
        top = book.top()
        if yes:
            assert top.yes_bid is not None and top.yes_bid.price == max(p for p, _ in yes)
        else:
            assert top.yes_bid is None
        if no:
            assert top.yes_ask is not None and top.yes_ask.price == 1 - max(p for p, _ in no)
        else:
            assert top.yes_ask is None
        assert not book.is_crossed
        checked += 1
    assert checked == 12
