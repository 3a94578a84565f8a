"""Fakes of remote services served over real loopback sockets (see kalshi_wx.sources.loopback)."""

from __future__ import annotations

from kalshi_wx_tests.fakes.archive_servers import FakeIem, FakeNcei
from kalshi_wx_tests.fakes.faults import Fault, FaultPlan
from kalshi_wx_tests.fakes.kalshi_server import FakeKalshi
from kalshi_wx_tests.fakes.vc_server import FakeVisualCrossing

__all__ = ["Fault", "FaultPlan", "FakeIem", "FakeKalshi", "FakeNcei", "FakeVisualCrossing"]
