"""Signing primitives against published test vectors, clock-offset timestamps, and secrecy."""

from __future__ import annotations

import logging
import pickle

import pytest

from userstream import MarketAuth

# From Binance's API documentation ("SIGNED endpoint examples for POST /api/v3/order").
BINANCE_SECRET = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"
BINANCE_QUERY = (
    "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559"
)
BINANCE_SIGNATURE = "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71"

# RFC 4231, test case 2 (key "Jefe").
RFC4231_DATA = "what do ya want for nothing?"
RFC4231_SHA256 = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
RFC4231_SHA512 = (
    "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554"
    "9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737"
)


def test_hmac_sha256_hex_matches_binance_documentation() -> None:
    assert MarketAuth("key", BINANCE_SECRET).hmac_sha256_hex(BINANCE_QUERY) == BINANCE_SIGNATURE


def test_hmac_vectors_from_rfc_4231() -> None:
    auth = MarketAuth("key", "Jefe")
    assert auth.hmac_sha256_hex(RFC4231_DATA) == RFC4231_SHA256
    assert auth.hmac_sha512_hex(RFC4231_DATA.encode()) == RFC4231_SHA512
    assert auth.hmac_sha256_base64(RFC4231_DATA) == "W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOEM="
    assert auth.hmac_sha512_base64(RFC4231_DATA) == auth.sign(RFC4231_DATA, digest="sha512", encoding="base64")


def test_unknown_digest_or_encoding_is_a_clear_error() -> None:
    auth = MarketAuth("key", "secret")
    with pytest.raises(ValueError, match="unknown digest 'md5'"):
        auth.sign("x", digest="md5")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown encoding 'base32'"):
        auth.sign("x", encoding="base32")  # type: ignore[arg-type]


def test_timestamps_follow_the_measured_server_offset() -> None:
    auth = MarketAuth("key", "secret", clock=lambda: 1_700_000_000.25)
    assert auth.timestamp_ms() == 1_700_000_000_250
    # The exchange read its clock half-way through a 0.2 s round trip, 3 s ahead of ours.
    offset = auth.record_server_time(1_700_000_003.35, sent_at=1_700_000_000.25, received_at=1_700_000_000.45)
    assert offset == pytest.approx(3.0)
    assert auth.timestamp_ms() == 1_700_000_003_250
    assert auth.timestamp_s() == 1_700_000_003
    assert auth.timestamp_iso() == "2023-11-14T22:13:23.250Z"


def test_a_negative_offset_moves_timestamps_back() -> None:
    auth = MarketAuth("key", "secret", clock=lambda: 100.0)
    auth.set_time_offset(-1.5)
    assert auth.now() == 98.5


def test_the_secret_and_passphrase_never_show_in_repr_str_or_redacted_text(caplog: pytest.LogCaptureFixture) -> None:
    auth = MarketAuth("abcd1234efgh", "s3cr3t-value", passphrase="my-passphrase")
    for text in (repr(auth), str(auth), f"{auth}"):
        assert "s3cr3t-value" not in text
        assert "my-passphrase" not in text
        assert "abcd1234efgh" not in text
        assert "abcd…" in text
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("test").info("auth is %s", auth)
    assert "s3cr3t-value" not in caplog.text
    assert auth.redact("signing with s3cr3t-value and my-passphrase") == "signing with *** and ***"


def test_credentials_cannot_be_pickled_into_a_log_or_a_cache() -> None:
    with pytest.raises(TypeError, match="holds credentials and cannot be pickled"):
        pickle.dumps(MarketAuth("key", "secret"))


@pytest.mark.parametrize(("api_key", "secret", "message"), [("", "s", "api_key"), ("k", "", "secret_key")])
def test_empty_credentials_are_refused(api_key: str, secret: str, message: str) -> None:
    with pytest.raises(ValueError, match=f"{message} must not be empty"):
        MarketAuth(api_key, secret)


def test_exchange_hooks_name_what_to_override() -> None:
    auth = MarketAuth("key", "secret")
    with pytest.raises(NotImplementedError, match=r"override rest_auth_headers\(\)"):
        auth.rest_auth_headers("GET", "/api/v3/account")
    with pytest.raises(NotImplementedError, match=r"override ws_login_payload\(\)"):
        auth.ws_login_payload()


def test_a_base64_secret_can_key_the_hmac_decoded() -> None:
    import base64
    import hashlib
    import hmac

    raw_key = b"\x00\x01kraken-key\xff"
    auth = MarketAuth("key", base64.b64encode(raw_key).decode())
    expected = base64.b64encode(hmac.new(raw_key, b"payload", hashlib.sha512).digest()).decode()
    assert auth.sign("payload", digest="sha512", encoding="base64", secret_is_base64=True) == expected
    with pytest.raises(ValueError, match="the secret is not valid base64"):
        MarketAuth("key", "not base64!").sign("payload", secret_is_base64=True)
