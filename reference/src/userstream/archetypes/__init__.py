"""How exchanges authenticate private streams, one reusable building block each.

A connector subclasses the block its exchange uses and fills in constants and message shapes.

==================  ==========================  =====================================================
block               exchanges                   what it owns
==================  ==========================  =====================================================
listen key          Binance futures, MEXC       REST-minted key in the URL, keepalive job, expiry
login message       OKX, Bybit, Bitget          signed login at send time, subscribe after the ack
REST token          KuCoin, Kraken              a fresh token (and endpoint, ping interval) per connection
signed subscribe    Binance WS-API, Gate.io,    every subscribe signed at send time, reply checked
                    Coinbase Advanced Trade
REST polling        HTX and exchanges without   polled snapshots diffed into change messages
                    a private WebSocket
==================  ==========================  =====================================================
"""

from userstream.archetypes.listen_key import KeepaliveFailed, ListenKeyDataSource
from userstream.archetypes.login_message import LoginMessageDataSource, LoginSignature, SignedLogin, sign_login
from userstream.archetypes.rest_polling import (
    Balance,
    ExchangeError,
    MalformedReply,
    Order,
    PolledAccount,
    RateLimited,
    RestPollingDataSource,
    diff_snapshots,
)
from userstream.archetypes.rest_token import RestTokenDataSource, TokenGrant
from userstream.archetypes.signed_subscribe import (
    Es256JwtAuth,
    ReplyVerdict,
    SignedSubscribeDataSource,
    sorted_query,
)

__all__ = [
    "Balance",
    "Es256JwtAuth",
    "ExchangeError",
    "KeepaliveFailed",
    "ListenKeyDataSource",
    "LoginMessageDataSource",
    "LoginSignature",
    "MalformedReply",
    "Order",
    "PolledAccount",
    "RateLimited",
    "ReplyVerdict",
    "RestPollingDataSource",
    "RestTokenDataSource",
    "SignedLogin",
    "SignedSubscribeDataSource",
    "TokenGrant",
    "diff_snapshots",
    "sign_login",
    "sorted_query",
]
