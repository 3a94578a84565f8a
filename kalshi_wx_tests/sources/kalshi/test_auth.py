"""Kalshi request signing and the doctor's key-file check."""

from __future__ import annotations

import base64
import os

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa

from kalshi_wx.core.errors import ConfigError
from kalshi_wx.sources.kalshi.auth import (
    KalshiSigner,
    check_private_key,
    load_private_key,
    signing_message,
    verify_signature,
)

KEY_ID = "9f8e7d6c-1111-4222-8333-444455556666"
TS = 1703123456789


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _pem(key) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def test_message_is_timestamp_method_path_without_query():
    # The documented example (reference s1)
    assert (
        signing_message(TS, "get", "/trade-api/v2/portfolio/balance")
        == b"1703123456789GET/trade-api/v2/portfolio/balance"
    )
    assert signing_message(TS, "GET", "/trade-api/v2/portfolio/orders?limit=5") == (
        b"1703123456789GET/trade-api/v2/portfolio/orders"
    )


def test_rsa_signature_is_pss_sha256_digest_salt(rsa_key):
    headers = KalshiSigner(KEY_ID, rsa_key).headers("GET", "/trade-api/v2/portfolio/orders?limit=5", timestamp_ms=TS)
    assert headers["KALSHI-ACCESS-KEY"] == KEY_ID and headers["KALSHI-ACCESS-TIMESTAMP"] == str(TS)
    signature = base64.b64decode(headers["KALSHI-ACCESS-SIGNATURE"])
    public = rsa_key.public_key()
    digest_salt = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
    public.verify(signature, b"1703123456789GET/trade-api/v2/portfolio/orders", digest_salt, hashes.SHA256())
    with pytest.raises(InvalidSignature):  # the query string is not signed
        public.verify(
            signature, b"1703123456789GET/trade-api/v2/portfolio/orders?limit=5", digest_salt, hashes.SHA256()
        )
    # The peer pitfall: signing with MAX_LENGTH (222 bytes for a 2048-bit key) is a different scheme.
    max_salt = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=222)
    with pytest.raises(InvalidSignature):
        public.verify(signature, b"1703123456789GET/trade-api/v2/portfolio/orders", max_salt, hashes.SHA256())


def test_verify_signature_rejects_changed_method_path_or_timestamp(rsa_key):
    signer = KalshiSigner(KEY_ID, rsa_key)
    sig = signer.headers("POST", "/trade-api/v2/portfolio/events/orders", timestamp_ms=TS)["KALSHI-ACCESS-SIGNATURE"]
    public = rsa_key.public_key()
    ok = {"timestamp_ms": str(TS), "method": "POST", "path": "/trade-api/v2/portfolio/events/orders"}
    assert verify_signature(public, signature=sig, **ok)
    assert verify_signature(public, signature=sig, **{**ok, "path": ok["path"] + "?x=1"})
    assert not verify_signature(public, signature=sig, **{**ok, "method": "GET"})
    assert not verify_signature(public, signature=sig, **{**ok, "path": "/portfolio/events/orders"})
    assert not verify_signature(public, signature=sig, **{**ok, "timestamp_ms": str(TS + 1)})
    assert not verify_signature(public, signature="not base64!", **ok)


def test_ed25519_keys_sign_the_same_message():
    key = ed25519.Ed25519PrivateKey.generate()
    signer = KalshiSigner.from_pem_bytes(KEY_ID, _pem(key))
    headers = signer.headers("GET", "/trade-api/v2/portfolio/balance", timestamp_ms=TS)
    signature = base64.b64decode(headers["KALSHI-ACCESS-SIGNATURE"])
    key.public_key().verify(signature, b"1703123456789GET/trade-api/v2/portfolio/balance")
    assert verify_signature(
        key.public_key(),
        timestamp_ms=str(TS),
        method="GET",
        path="/trade-api/v2/portfolio/balance",
        signature=headers["KALSHI-ACCESS-SIGNATURE"],
    )


def test_repr_hides_key_id_and_key(rsa_key):
    text = repr(KalshiSigner(KEY_ID, rsa_key))
    assert KEY_ID not in text and "9f8e…" in text and "PRIVATE" not in text
    assert text == str(KalshiSigner(KEY_ID, rsa_key))


def test_check_private_key(tmp_path, rsa_key):
    pem = tmp_path / "kalshi.pem"
    pem.write_bytes(_pem(rsa_key))
    os.chmod(pem, 0o600)
    assert check_private_key(pem) == []
    os.chmod(pem, 0o644)
    (problem,) = check_private_key(pem)
    assert "group/others" in problem and "0644" in problem and "chmod 600" in problem

    garbage = tmp_path / "garbage.pem"
    garbage.write_text("-----BEGIN PRIVATE KEY-----\nc2VjcmV0LXNlY3JldA==\n-----END PRIVATE KEY-----\n")
    os.chmod(garbage, 0o600)
    (problem,) = check_private_key(garbage)
    assert "not a PEM private key" in problem and "c2VjcmV0" not in problem

    assert "cannot stat" in check_private_key(tmp_path / "missing.pem")[0]
    assert "not a regular file" in check_private_key(tmp_path)[0]


def test_small_rsa_key_and_encrypted_key_are_reported(tmp_path):
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    path = tmp_path / "small.pem"
    path.write_bytes(_pem(small))
    os.chmod(path, 0o600)
    assert "1024 bits" in check_private_key(path)[0]

    encrypted = tmp_path / "encrypted.pem"
    encrypted.write_bytes(
        small.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"pw"),
        )
    )
    with pytest.raises(ConfigError, match="password-protected"):
        load_private_key(encrypted)


def test_public_key_file_is_not_a_private_key(tmp_path, rsa_key):
    path = tmp_path / "public.pem"
    path.write_bytes(
        rsa_key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    with pytest.raises(ConfigError, match="not a PEM private key"):
        load_private_key(path)
