from __future__ import annotations

import pytest

from kalshi_wx.core.backtest import Order
from kalshi_wx_tests.core.backtest.scenario import TK, TK2, D, run, trades


def test_unsettled_result_is_marked_to_the_last_mid():
    result, _ = run({0: [Order(TK, "yes", D("0.41"), "maker")]}, trades((TK, 1.5, "0.39", "25")))
    assert not result.pnl.settled
    assert (result.pnl.gross, result.pnl.fees, result.pnl.net) == (D("0.150"), D("0.05"), D("0.100"))
    assert result.metrics["hit_rate"] is None and result.fills["payout"].to_list() == [None]


def test_settlement_must_cover_every_traded_ticker():
    with pytest.raises(ValueError, match="no outcome"):
        run({0: [Order(TK, "yes", D("0.45"), "taker")]}, settled={TK2: True})
