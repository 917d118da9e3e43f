"""Coinbase Advanced Trade's message shapes, checked as pure functions: no socket, no event loop."""

import base64
import json
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, utils
from userstream import FrameKind
from userstream.testing.dialects.coinbase import DocumentedFrames as messages

from coinbase_advanced_trade.coinbase_advanced_trade_api_user_stream_data_source import (
    CoinbaseAdvancedTradeAPIUserStreamDataSource,
)
from coinbase_advanced_trade.coinbase_advanced_trade_auth import CoinbaseAdvancedTradeAuth

NOW = 1_700_000_000.0
KEY_NAME = "organizations/test-org/apiKeys/test-key"


@pytest.fixture(scope="module")
def signing_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


@pytest.fixture
def data_source(signing_key: ec.EllipticCurvePrivateKey) -> CoinbaseAdvancedTradeAPIUserStreamDataSource:
    pem = signing_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    )
    return CoinbaseAdvancedTradeAPIUserStreamDataSource(
        CoinbaseAdvancedTradeAuth(KEY_NAME, pem.decode(), clock=lambda: NOW)
    )


def verified_jwt(token: str, public_key: ec.EllipticCurvePublicKey) -> tuple[dict[str, Any], dict[str, Any]]:
    """The header and claims of an ES256 JWT, after checking its signature as Coinbase does (RFC 7515)."""

    def decode(part: str) -> bytes:
        return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))

    header, claims, signature = token.split(".")
    raw = decode(signature)
    der = utils.encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    public_key.verify(der, f"{header}.{claims}".encode(), ec.ECDSA(hashes.SHA256()))  # raises if forged
    return json.loads(decode(header)), json.loads(decode(claims))


def test_each_channel_gets_a_subscribe_with_its_own_jwt(
    data_source: CoinbaseAdvancedTradeAPIUserStreamDataSource, signing_key: ec.EllipticCurvePrivateKey
) -> None:
    assert not data_source.login_messages(), "Coinbase has no login"
    subscribes = [subscribe for subscribe in data_source.subscribe_messages() if isinstance(subscribe, dict)]
    assert [(s["type"], s["channel"]) for s in subscribes] == [("subscribe", "user"), ("subscribe", "heartbeats")]
    nonces = set()
    for subscribe in subscribes:
        header, claims = verified_jwt(subscribe["jwt"], signing_key.public_key())
        assert header == {"alg": "ES256", "typ": "JWT", "kid": KEY_NAME, "nonce": header["nonce"]}
        assert claims == {"iss": "cdp", "sub": KEY_NAME, "nbf": 1700000000, "exp": 1700000120}
        nonces.add(header["nonce"])
    assert len(nonces) == 2, "no two JWTs alike"


def test_a_secret_that_is_not_an_ec_key_is_refused_at_once() -> None:
    with pytest.raises(ValueError, match="PEM"):
        CoinbaseAdvancedTradeAuth(KEY_NAME, "not-a-private-key")


def test_the_client_pings_at_the_protocol_level(data_source: CoinbaseAdvancedTradeAPIUserStreamDataSource) -> None:
    assert data_source.ping_message() is None


@pytest.mark.parametrize(
    ("frame", "kind"),
    [
        (messages.SNAPSHOT, FrameKind.USER_MESSAGE),
        (messages.ORDER_UPDATE, FrameKind.USER_MESSAGE),
        (messages.FILL, FrameKind.USER_MESSAGE),
        (messages.SUBSCRIBED, FrameKind.SUBSCRIBED),
        (messages.AUTHENTICATION_FAILURE, FrameKind.AUTH_REJECTED),
        (messages.HEARTBEAT, FrameKind.CONTROL),
        ({"unexpected": True}, FrameKind.MALFORMED),
    ],
)
def test_frames_are_classified(
    data_source: CoinbaseAdvancedTradeAPIUserStreamDataSource, frame: dict[str, Any], kind: FrameKind
) -> None:
    assert data_source.classify(frame) is kind


def test_a_refusal_is_described_in_coinbases_words(data_source: CoinbaseAdvancedTradeAPIUserStreamDataSource) -> None:
    assert data_source.describe_rejection(messages.AUTHENTICATION_FAILURE) == "authentication failure"
