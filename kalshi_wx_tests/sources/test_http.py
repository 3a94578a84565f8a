"""The client base every outside source shares: it owns the connection pool, labels requests by their
selectors, retries bodies cut off on the way and prints no secret."""

from __future__ import annotations

import logging

from kalshi_wx.sources.http import MAX_SELECTOR_LENGTH, SourceClient, register_secret, request_label
from kalshi_wx.sources.loopback import LoopbackServer, Response

SECRET = "sk-test-6b1f0c9e2d"


class TokenClient(SourceClient):
    source = "token"
    _log = logging.getLogger(__name__)

    def _repr_fields(self) -> dict[str, str]:
        return {"token": repr(SECRET)}


def test_the_pool_closes_on_exit_and_the_repr_masks_registered_secrets():
    register_secret(SECRET)
    with TokenClient(f"https://example.test/{SECRET}/", timeout_s=1.0, headers={}) as client:
        text = repr(client)
    assert client._http.is_closed
    assert SECRET not in text
    assert text == "TokenClient(base_url='https://example.test/***', token='***')"


def test_request_labels_show_only_the_selectors():
    tickers = [f"KXHIGHNY-26JUN01-B{70 + i}.5" for i in range(10)]
    params = {"key": SECRET, "event_ticker": "KXHIGHNY-26JUN01", "limit": 1000, "tickers": tickers, "cursor": ""}
    label = request_label("GET", "/markets", params, ("event_ticker", "tickers", "cursor"))
    assert label.startswith("GET /markets?event_ticker=KXHIGHNY-26JUN01&tickers=KXHIGHNY-26JUN01-B70.5,")
    assert SECRET not in label and "limit" not in label and "cursor" not in label
    assert len(label.split("tickers=")[1]) == MAX_SELECTOR_LENGTH and label.endswith("…")
    assert request_label("GET", "/series/KXHIGHNY", None, ("ticker",)) == "GET /series/KXHIGHNY"


def test_a_client_that_reads_json_itself_still_has_cut_off_bodies_retried():
    # The plain way to write a source (``_send``, then ``response.json()``) inherits the retry.
    answers = [
        Response(200, b'{"rows": [1,', {"Content-Type": "application/json"}),
        Response.json({"rows": [1, 2]}),
        Response(200, b"a,b\n1,", {"Content-Type": "text/csv"}),
    ]
    sleeps: list[float] = []
    with (
        LoopbackServer(lambda request: answers.pop(0)) as server,
        TokenClient(server.url, timeout_s=2.0, headers={}, sleep=sleeps.append) as client,
    ):
        rows = client._send(lambda: client._http.get(f"{server.url}/rows"), "GET /rows")
        assert rows.json() == {"rows": [1, 2]} and len(sleeps) == 1
        # Not declared as JSON: the client judges its own format.
        table = client._send(lambda: client._http.get(f"{server.url}/rows.csv"), "GET /rows.csv")
        assert table.text == "a,b\n1," and len(sleeps) == 1
