"""Order and portfolio wire structures: what goes out is exactly the V2 body, what comes in is Decimal/int."""

from __future__ import annotations

from decimal import Decimal

import pytest

from kalshi_wx.core.errors import PayloadError
from kalshi_wx.core.payloads.kalshi_orders import (
    AmendOrderRequest,
    CreateOrderRequest,
    DecreaseOrderRequest,
    parse_balance,
    parse_batch_create_response,
    parse_create_order_response,
    parse_fill,
    parse_market_position,
    parse_order,
    parse_settlement,
)

ORDER = {
    "order_id": "ee4f0d2c-1111-4c1b-9a57-7d3b0c0f0a01",
    "client_order_id": "c-1",
    "ticker": "KXHIGHNY-26JUN10-B81.5",
    "book_side": "ask",
    "status": "resting",
    "yes_price_dollars": "0.4700",
    "initial_count_fp": "10.00",
    "fill_count_fp": "4.00",
    "remaining_count_fp": "6.00",
    "created_time": "2026-06-10T17:00:00.123456Z",
}


def test_create_request_is_the_v2_body_with_strings_for_price_and_count():
    request = CreateOrderRequest(
        "KXHIGHNY-26JUN10-B81.5", "c-1", "bid", Decimal("0.45"), 10, "good_till_canceled", post_only=True
    )
    body = request.to_wire()
    assert body == {
        "ticker": "KXHIGHNY-26JUN10-B81.5",
        "client_order_id": "c-1",
        "side": "bid",
        "price": "0.4500",
        "count": "10",
        "time_in_force": "good_till_canceled",
        "post_only": True,
        "reduce_only": False,
    }
    assert CreateOrderRequest.from_wire(body) == request


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"price": Decimal("1.00")}, "price"),
        ({"price": Decimal("0")}, "price"),
        ({"price": Decimal("0.45001")}, "price"),
        ({"count": 0}, "count"),
        ({"count": True}, "count"),
        ({"side": "yes"}, "side"),
        ({"client_order_id": ""}, "client_order_id"),
        ({"reduce_only": True}, "reduce_only"),  # only with immediate_or_cancel
        ({"post_only": True, "time_in_force": "immediate_or_cancel"}, "post_only"),
        ({"expiration_ts": 1, "time_in_force": "fill_or_kill"}, "expiration_ts"),
    ],
)
def test_invalid_create_requests_name_the_field(change, field):
    args = {"ticker": "T-1", "client_order_id": "c", "side": "bid", "price": Decimal("0.45"), "count": 1,
            "time_in_force": "good_till_canceled"}  # fmt: skip
    with pytest.raises(PayloadError, match=f"field '{field}'"):
        CreateOrderRequest(**{**args, **change})


def test_a_float_price_never_enters_a_request():
    with pytest.raises(PayloadError, match="expected a Decimal price"):
        CreateOrderRequest("T-1", "c", "bid", 0.45, 1, "good_till_canceled")  # type: ignore[arg-type]


def test_request_bodies_from_the_wire_are_checked():
    body = CreateOrderRequest("T-1", "c", "ask", Decimal("0.3"), 2, "fill_or_kill").to_wire()
    with pytest.raises(PayloadError, match="field 'count'.*whole number"):
        CreateOrderRequest.from_wire({**body, "count": "2.50"})
    with pytest.raises(PayloadError, match="ticker T-1, field 'price'"):
        CreateOrderRequest.from_wire({**body, "price": 0.3})
    with pytest.raises(PayloadError, match="field 'time_in_force'"):
        CreateOrderRequest.from_wire({**body, "time_in_force": "day"})


def test_amend_and_decrease_bodies():
    amend = AmendOrderRequest("T-1", "bid", Decimal("0.46"), 12, "c-2")
    assert amend.to_wire() == {"ticker": "T-1", "side": "bid", "price": "0.4600", "count": "12",
                               "updated_client_order_id": "c-2"}  # fmt: skip
    assert AmendOrderRequest.from_wire(amend.to_wire()) == amend
    assert DecreaseOrderRequest(reduce_by=3).to_wire() == {"reduce_by": "3"}
    assert DecreaseOrderRequest.from_wire({"reduce_to": "2.00"}) == DecreaseOrderRequest(reduce_to=2)
    with pytest.raises(PayloadError, match="exactly one"):
        DecreaseOrderRequest(reduce_by=1, reduce_to=1)


def test_order_parses_to_decimal_and_whole_counts():
    order = parse_order(ORDER)
    assert (order.side, order.status, order.yes_price) == ("ask", "resting", Decimal("0.4700"))
    assert (order.initial_count, order.fill_count, order.remaining_count) == (10, 4, 6) and order.is_resting
    assert order.created_time.microsecond == 123456


def test_order_without_book_side_reads_the_legacy_side_and_action():
    legacy = {k: v for k, v in ORDER.items() if k != "book_side"}
    assert parse_order({**legacy, "side": "no", "action": "buy"}).side == "ask"
    assert parse_order({**legacy, "side": "no", "action": "sell"}).side == "bid"
    with pytest.raises(PayloadError, match="field 'book_side'"):
        parse_order(legacy)


def test_order_errors_name_source_ticker_and_field():
    with pytest.raises(PayloadError, match=r"^orders\[3\], ticker KXHIGHNY-26JUN10-B81.5, field 'remaining_count_fp'"):
        parse_order({**ORDER, "remaining_count_fp": "1.50"}, "orders[3]")
    with pytest.raises(PayloadError, match="field 'status'"):
        parse_order({**ORDER, "status": "open"})


def test_fill_position_balance_settlement():
    fill = parse_fill(
        {"fill_id": "f-1", "order_id": "o-1", "ticker": "T-1", "book_side": "ask", "count_fp": "3.00",
         "yes_price_dollars": "0.6100", "is_taker": True, "fee_cost": "0.0600",
         "created_time": "2026-06-10T17:00:00Z"}
    )  # fmt: skip
    assert (fill.signed_count, fill.fee_cost, fill.is_taker) == (-3, Decimal("0.0600"), True)
    position = parse_market_position(
        {"ticker": "T-1", "position_fp": "-3.00", "market_exposure_dollars": "1.1700",
         "realized_pnl_dollars": "0.0000", "fees_paid_dollars": "0.0600", "total_traded_dollars": "1.1700"}
    )  # fmt: skip
    assert position.position == -3 and position.market_exposure == Decimal("1.17")
    assert parse_balance({"balance": 99905, "portfolio_value": 90}).balance == Decimal("999.05")
    settlement = parse_settlement(
        {"ticker": "T-1", "event_ticker": "T", "market_result": "no", "yes_count_fp": "0.00",
         "no_count_fp": "3.00", "yes_total_cost_dollars": "0.0000", "no_total_cost_dollars": "1.1700",
         "revenue": 300, "settled_time": "2026-06-11T11:01:33Z", "fee_cost": "0.0600"}
    )  # fmt: skip
    assert settlement.revenue == Decimal(3) and settlement.no_count == 3


def test_create_response_and_batch():
    answer = {"order_id": "o-1", "client_order_id": "c-1", "fill_count": "2.00", "remaining_count": "8.00",
              "average_fill_price": "0.4400", "average_fee_paid": "0.0100", "ts_ms": 1781110800000}  # fmt: skip
    response = parse_create_order_response(answer)
    assert (response.fill_count, response.remaining_count, response.average_fill_price) == (2, 8, Decimal("0.44"))
    assert parse_create_order_response(response.to_wire()) == response
    batch = parse_batch_create_response(
        {"orders": [{"client_order_id": "c-1", "order": answer, "error": None},
                    {"client_order_id": "c-2", "order": None, "error": {"code": "post_only_cross", "message": "x"}}]},
        "batch",
    )  # fmt: skip
    assert batch[0].order == response and batch[1].error == "post_only_cross: x"
