"""Kalshi Trade API v2: signing, rate limiting and the REST client."""

from __future__ import annotations

from kalshi_wx.sources.kalshi.auth import KalshiSigner, check_private_key, verify_signature
from kalshi_wx.sources.kalshi.client import (
    DEMO_BASE,
    PROD_BASE,
    HistoricalCutoff,
    KalshiClient,
    KalshiHTTPError,
    resolve_base_url,
)
from kalshi_wx.sources.kalshi.ratelimit import KalshiRateLimiter, TokenBucket, shared_limiter

__all__ = [
    "DEMO_BASE",
    "PROD_BASE",
    "HistoricalCutoff",
    "KalshiClient",
    "KalshiHTTPError",
    "KalshiRateLimiter",
    "KalshiSigner",
    "TokenBucket",
    "check_private_key",
    "resolve_base_url",
    "shared_limiter",
    "verify_signature",
]
