"""Kalshi WebSocket messages parsed at the edge: every documented shape, fixed-point and legacy, and bad input."""

from __future__ import annotations

from decimal import Decimal

import pytest

from kalshi_wx.core.payloads.kalshi_ws import (
    ErrorReply,
    FillUpdate,
    MarketLifecycle,
    Ok,
    OrderbookDelta,
    OrderbookSnapshot,
    Subscribed,
    TickerUpdate,
    TradeUpdate,
    UnknownMessage,
    Unsubscribed,
    UserOrderUpdate,
    WsPayloadError,
    envelope,
    parse_message,
)

TICKER = "KXHIGHNY-26AUG12-B88.5"


def test_documented_snapshot_and_delta_with_seq_from_the_envelope():
    # The examples of reference s7, verbatim but for the ticker.
    snapshot = parse_message(
        {
            "type": "orderbook_snapshot", "sid": 2, "seq": 7,
            "msg": {"market_ticker": TICKER, "market_id": "x", "yes_dollars_fp": [["0.0800", "300.00"]],
                    "no_dollars_fp": [["0.5400", "20.25"]]},
        }
    )  # fmt: skip
    assert snapshot == OrderbookSnapshot(
        2, 7, TICKER, ((Decimal("0.08"), Decimal("300")),), ((Decimal("0.54"), Decimal("20.25")),)
    )
    delta = parse_message(
        {
            "type": "orderbook_delta", "sid": 2, "seq": 8,
            "msg": {"market_ticker": TICKER, "price_dollars": "0.0800", "delta_fp": "-20.00", "side": "yes",
                    "ts_ms": 1_786_000_000_123, "seq": 99},
        }
    )  # fmt: skip
    assert delta == OrderbookDelta(2, 8, TICKER, "yes", Decimal("0.08"), Decimal("-20"), 1_786_000_000_123)
    assert delta.seq == 8  # a seq inside msg is not the sequence number (the seed's bug)


def test_legacy_integer_cents_parse_to_the_same_values():
    fixed = parse_message(
        {"type": "orderbook_snapshot", "sid": 1, "seq": 1,
         "msg": {"market_ticker": TICKER, "yes_dollars_fp": [["0.0100", "5.00"], ["0.4500", "12.00"]],
                 "no_dollars_fp": [["0.5300", "7.00"]]}}
    )  # fmt: skip
    legacy = parse_message(
        {"type": "orderbook_snapshot", "sid": 1, "seq": 1,
         "msg": {"market_ticker": TICKER, "yes": [[1, 5], [45, 12]], "no": [[53, 7]]}}
    )  # fmt: skip
    assert fixed == legacy
    fixed_delta = parse_message(
        {"type": "orderbook_delta", "sid": 1, "seq": 2,
         "msg": {"market_ticker": TICKER, "price_dollars": "0.4500", "delta_fp": "3.00", "side": "no"}}
    )  # fmt: skip
    legacy_delta = parse_message(
        {"type": "orderbook_delta", "sid": 1, "seq": 2,
         "msg": {"market_ticker": TICKER, "price": 45, "delta": 3, "side": "no"}}
    )  # fmt: skip
    assert fixed_delta == legacy_delta


def test_an_empty_side_may_be_left_out_of_a_snapshot():
    snapshot = parse_message(
        {"type": "orderbook_snapshot", "sid": 1, "seq": 1,
         "msg": {"market_ticker": TICKER, "no_dollars_fp": [["0.9900", "1.00"]]}}
    )  # fmt: skip
    assert isinstance(snapshot, OrderbookSnapshot) and snapshot.yes == () and len(snapshot.no) == 1


def test_control_replies():
    assert parse_message({"id": 1, "type": "subscribed", "msg": {"channel": "orderbook_delta", "sid": 3}}) == (
        Subscribed(1, "orderbook_delta", 3)
    )
    assert parse_message({"id": 4, "type": "unsubscribed", "sid": 3}) == Unsubscribed(4, 3)
    assert parse_message({"id": 5, "type": "ok", "sid": 3, "msg": {"market_tickers": ["A", "B"]}}) == Ok(
        5, 3, ("A", "B")
    )
    error = parse_message({"id": 6, "type": "error", "msg": {"code": 8, "msg": "Unknown channel name"}})
    assert error == ErrorReply(6, 8, "Unknown channel name")
    assert isinstance(error, ErrorReply) and error.name == "unknown channel"
    assert "error 8 (unknown channel) to command 6: Unknown channel name" in str(error)


def test_ticker_trade_lifecycle_and_private_channels():
    ticker = parse_message(
        {"type": "ticker", "sid": 5,
         "msg": {"market_ticker": TICKER, "price_dollars": "0.4800", "yes_bid_dollars": "0.4700",
                 "yes_ask_dollars": "0.4900", "volume_fp": "1200.00", "open_interest_fp": "300.00",
                 "yes_bid_size_fp": "10.00", "yes_ask_size_fp": "4.00", "ts_ms": 5}}
    )  # fmt: skip
    assert isinstance(ticker, TickerUpdate) and ticker.yes_ask == Decimal("0.49") and ticker.seq is None
    trade = parse_message(
        {"type": "trade", "sid": 6,
         "msg": {"trade_id": "t1", "market_ticker": TICKER, "yes_price_dollars": "0.3600", "no_price_dollars": "0.6400",
                 "count_fp": "136.00", "taker_side": "no", "taker_outcome_side": "no", "taker_book_side": "ask",
                 "ts": 1669149841}}
    )  # fmt: skip
    assert isinstance(trade, TradeUpdate) and trade.ts_ms == 1_669_149_841_000 and trade.count == Decimal(136)
    fill = parse_message(
        {"type": "fill", "sid": 7,
         "msg": {"trade_id": "t2", "order_id": "o1", "market_ticker": TICKER, "is_taker": True, "side": "yes",
                 "yes_price_dollars": "0.7500", "count_fp": "278.00", "fee_cost": "0.0400", "action": "buy",
                 "ts_ms": 9, "post_position_fp": "-10.00", "outcome_side": "yes", "book_side": "bid",
                 "client_order_id": "kwx-abc"}}
    )  # fmt: skip
    assert isinstance(fill, FillUpdate)
    assert (fill.post_position, fill.fee_cost, fill.client_order_id) == (Decimal(-10), Decimal("0.04"), "kwx-abc")
    assert fill.raw["msg"]["trade_id"] == "t2"  # kept for re-parsing
    order = parse_message(
        {"type": "user_order", "sid": 8,
         "msg": {"order_id": "o1", "ticker": TICKER, "status": "resting", "outcome_side": "yes",
                 "yes_price_dollars": "0.3500", "fill_count_fp": "0.00", "remaining_count_fp": "10.00",
                 "created_ts_ms": 11}}
    )  # fmt: skip
    assert isinstance(order, UserOrderUpdate) and order.market_ticker == TICKER and order.remaining_count == 10
    created = parse_message(
        {"type": "market_lifecycle_v2", "sid": 9,
         "msg": {"event_type": "created", "market_ticker": TICKER, "open_ts": 100, "close_ts": 200}}
    )  # fmt: skip
    assert created == MarketLifecycle(9, None, "created", TICKER, 100, 200, None, None, {})
    other = parse_message({"type": "event_lifecycle", "sid": 10, "msg": {"anything": 1}})
    assert isinstance(other, UnknownMessage) and other.type == "event_lifecycle"


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (
            {"type": "orderbook_delta", "sid": 3, "seq": 41,
             "msg": {"market_ticker": TICKER, "price_dollars": "1.2000", "delta_fp": "1.00", "side": "yes"}},
            f"orderbook_delta sid=3 seq=41, ticker {TICKER}, field 'price_dollars': price '1.2000' is outside",
        ),
        (
            {"type": "orderbook_delta", "sid": 3, "seq": 42,
             "msg": {"market_ticker": TICKER, "price_dollars": "0.5000", "side": "up", "delta_fp": "1"}},
            "sid=3 seq=42, ticker KXHIGHNY-26AUG12-B88.5, field 'side': side 'up' is not yes or no",
        ),
        (
            {"type": "orderbook_snapshot", "sid": 3, "seq": 43,
             "msg": {"market_ticker": TICKER, "yes_dollars_fp": [["0.5000", "-1.00"]]}},
            "field 'yes_dollars_fp[0]': count '-1.00' is negative",
        ),
        (
            {"type": "orderbook_snapshot", "sid": 3, "seq": 44, "msg": {"market_ticker": TICKER, "yes": [[50.5, 1]]}},
            "field 'yes[0]': expected integer cents, got 50.5",
        ),
        ({"type": "orderbook_delta", "sid": 3, "seq": 45, "msg": "nope"}, "sid=3 seq=45, field 'msg': msg is not"),
        ({"type": "orderbook_delta", "seq": 46, "msg": {}}, "sid=None seq=46, field 'sid': data message without a sid"),
        ({"type": 7}, "envelope type is missing or not a string"),
    ],
)  # fmt: skip
def test_malformed_messages_name_type_sid_seq_and_field(message, expected):
    with pytest.raises(WsPayloadError, match=None) as caught:
        parse_message(message)
    assert expected in str(caught.value)


def test_envelope_is_read_without_the_body():
    assert envelope({"type": "orderbook_delta", "sid": 3, "seq": 9, "msg": "broken"}) == ("orderbook_delta", 3, 9)
    with pytest.raises(WsPayloadError, match="envelope seq is not an integer"):
        envelope({"type": "orderbook_delta", "sid": 3, "seq": "9"})
