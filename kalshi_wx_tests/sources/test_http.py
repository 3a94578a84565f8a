"""The client base every outside source shares: it owns the connection pool and prints no secret."""

from __future__ import annotations

import logging

from kalshi_wx.sources.http import SourceClient, register_secret

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
