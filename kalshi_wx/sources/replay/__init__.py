"""Replay: recorded payloads served over loopback HTTP in each service's own wire format.

``KALSHI_WX_SOURCES=replay`` points the real clients at a ``ReplayServer`` over
``KALSHI_WX_REPLAY_DIR``, so the whole graph runs on real recorded data without keys or network.
The directory layout and the request -> file mapping are in ``layout`` (and the README).
"""
