"""Seeds from stable digests: Python's ``hash()`` is salted per process, so two processes would disagree."""

from __future__ import annotations

import hashlib


def stable_seed(*parts: object) -> int:
    """A 128-bit seed from the ``|``-joined text of ``parts``, identical in every process and on every run."""
    return int.from_bytes(hashlib.blake2b("|".join(map(str, parts)).encode(), digest_size=16).digest(), "big")
