"""Kalshi request signing (reference s1): RSA-PSS/SHA-256 or Ed25519 over timestamp+METHOD+path.

The private key only ever lives inside a ``KalshiSigner``; nothing here puts it, or the full
key id, into a message, a repr or a log line.
"""

from __future__ import annotations

import base64
import os
import stat
import time
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa

from kalshi_wx.core.errors import ConfigError

PrivateKey = rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey
PublicKey = rsa.RSAPublicKey | ed25519.Ed25519PublicKey

HEADER_KEY = "KALSHI-ACCESS-KEY"
HEADER_TIMESTAMP = "KALSHI-ACCESS-TIMESTAMP"
HEADER_SIGNATURE = "KALSHI-ACCESS-SIGNATURE"

_PSS = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.DIGEST_LENGTH)


def signing_message(timestamp_ms: int | str, method: str, path: str) -> bytes:
    """The exact text Kalshi verifies: the query string (if any) is not part of it."""
    return f"{timestamp_ms}{method.upper()}{urlsplit(path).path}".encode()


def mask(key_id: str) -> str:
    """Enough of a key id to tell keys apart in a log, not enough to use it."""
    return f"{key_id[:4]}…" if len(key_id) > 4 else "…"


def _load_private_key(pem: bytes, where: str) -> PrivateKey:
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except TypeError:
        raise ConfigError(f"{where}: the private key is password-protected; Kalshi keys are not") from None
    except (ValueError, UnsupportedAlgorithm):
        # cryptography's own message can quote the input; ours never does.
        raise ConfigError(f"{where}: not a PEM private key") from None
    if not isinstance(key, PrivateKey):
        raise ConfigError(f"{where}: unsupported key type {type(key).__name__}; Kalshi uses RSA or Ed25519")
    return key


def load_private_key(path: str | Path) -> PrivateKey:
    path = Path(path)
    try:
        pem = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"KALSHI_PRIVATE_KEY_PATH={path}: cannot read ({exc.strerror})") from None
    return _load_private_key(pem, f"KALSHI_PRIVATE_KEY_PATH={path}")


class KalshiSigner:
    """Builds the three ``KALSHI-ACCESS-*`` headers for one API key."""

    def __init__(self, key_id: str, private_key: PrivateKey):
        if not key_id:
            raise ConfigError("KALSHI_API_KEY_ID is empty")
        self._key_id = key_id
        self._key = private_key

    @classmethod
    def from_pem_file(cls, key_id: str, path: str | Path) -> KalshiSigner:
        return cls(key_id, load_private_key(path))

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> KalshiSigner | None:
        """The signer of ``KALSHI_API_KEY_ID`` and ``KALSHI_PRIVATE_KEY_PATH``; None when neither is set."""
        env = os.environ if environ is None else environ
        key_id = env.get("KALSHI_API_KEY_ID", "").strip()
        key_path = env.get("KALSHI_PRIVATE_KEY_PATH", "").strip()
        if bool(key_id) != bool(key_path):
            raise ConfigError("set both KALSHI_API_KEY_ID and KALSHI_PRIVATE_KEY_PATH, or neither")
        return cls.from_pem_file(key_id, key_path) if key_id else None

    @classmethod
    def from_pem_bytes(cls, key_id: str, pem: bytes) -> KalshiSigner:
        return cls(key_id, _load_private_key(pem, "private key"))

    def sign(self, message: bytes) -> str:
        if isinstance(self._key, rsa.RSAPrivateKey):
            signature = self._key.sign(message, _PSS, hashes.SHA256())
        else:
            signature = self._key.sign(message)
        return base64.b64encode(signature).decode("ascii")

    def headers(self, method: str, path: str, *, timestamp_ms: int | None = None) -> dict[str, str]:
        """Headers for ``method path``; ``path`` is the full URL path including ``/trade-api/v2``."""
        ts = str(timestamp_ms if timestamp_ms is not None else int(time.time() * 1000))
        return {
            HEADER_KEY: self._key_id,
            HEADER_TIMESTAMP: ts,
            HEADER_SIGNATURE: self.sign(signing_message(ts, method, path)),
        }

    def __repr__(self) -> str:
        return f"KalshiSigner(key_id={mask(self._key_id)!r}, key={type(self._key).__name__})"


def verify_signature(public_key: PublicKey, *, timestamp_ms: str, method: str, path: str, signature: str) -> bool:
    """Check a request's signature the way Kalshi does; used by the simulator and the test fakes."""
    try:
        raw = base64.b64decode(signature, validate=True)
    except ValueError:
        return False
    message = signing_message(timestamp_ms, method, path)
    try:
        if isinstance(public_key, rsa.RSAPublicKey):
            public_key.verify(raw, message, _PSS, hashes.SHA256())
        else:
            public_key.verify(raw, message)
    except InvalidSignature:
        return False
    return True


def check_private_key(path: str | Path) -> list[str]:
    """Problems with the PEM file at ``path`` for ``kalshi-wx doctor``; empty when it is fine."""
    path = Path(path)
    try:
        st = path.stat()
    except OSError as exc:
        return [f"{path}: cannot stat ({exc.strerror})"]
    if not stat.S_ISREG(st.st_mode):
        return [f"{path}: not a regular file"]
    problems = []
    if st.st_mode & 0o077:
        problems.append(
            f"{path}: readable or writable by group/others (mode {stat.S_IMODE(st.st_mode):04o}); run chmod 600 {path}"
        )
    try:
        key = load_private_key(path)
    except ConfigError as exc:
        problems.append(str(exc))
    else:
        if isinstance(key, rsa.RSAPrivateKey) and key.key_size < 2048:
            problems.append(f"{path}: RSA key of {key.key_size} bits; Kalshi issues 2048-bit or larger keys")
    return problems
