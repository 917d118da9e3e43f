"""Frames and REST replies as Kraken sends them for its spot private feeds, WebSocket v1 (shapes from its docs)."""

from typing import Any

NEW_ORDER: list[Any] = [
    [
        {
            "OGTT3Y-C6I3P-XRI6HX": {
                "avg_price": "0.00000",
                "cost": "0.00000",
                "descr": {
                    "close": "",
                    "leverage": "none",
                    "order": "buy 0.01000000 XBT/USD @ limit 30000.0",
                    "ordertype": "limit",
                    "pair": "XBT/USD",
                    "price": "30000.0",
                    "price2": "0.00000",
                    "type": "buy",
                },
                "expiretm": None,
                "fee": "0.00000",
                "limitprice": "0.00000",
                "misc": "",
                "oflags": "fciq",
                "opentm": "1795568753.027000",
                "refid": None,
                "starttm": None,
                "status": "pending",
                "stopprice": "0.00000",
                "userref": 0,
                "vol": "0.01000000",
                "vol_exec": "0.00000000",
            }
        }
    ],
    "openOrders",
    {"sequence": 1},
]
OWN_TRADE: list[Any] = [
    [
        {
            "TDLH43-DVQXD-2KHVYY": {
                "cost": "300.00000",
                "fee": "0.78000",
                "margin": "0.00000",
                "ordertxid": "OGTT3Y-C6I3P-XRI6HX",
                "ordertype": "limit",
                "pair": "XBT/USD",
                "postxid": "TKH2SE-M7IF5-CFI7LT",
                "price": "30000.00000",
                "time": "1795568753.127000",
                "type": "buy",
                "vol": "0.01000000",
            }
        }
    ],
    "ownTrades",
    {"sequence": 1},
]
ORDER_CLOSED: list[Any] = [
    [
        {
            "OGTT3Y-C6I3P-XRI6HX": {"status": "closed"},
        }
    ],
    "openOrders",
    {"sequence": 2},
]
SYSTEM_STATUS: dict[str, Any] = {
    "connectionID": 14950811667203285981,
    "event": "systemStatus",
    "status": "online",
    "version": "1.9.5",
}
SUBSCRIBED: dict[str, Any] = {
    "channelName": "openOrders",
    "event": "subscriptionStatus",
    "status": "subscribed",
    "subscription": {"name": "openOrders"},
}
SESSION_REFUSED: dict[str, Any] = {
    "errorMessage": "ESession:Invalid session",
    "event": "subscriptionStatus",
    "status": "error",
    "subscription": {"name": "openOrders"},
}
FEED_ENDED: dict[str, Any] = {
    "channelName": "ownTrades",
    "event": "subscriptionStatus",
    "status": "unsubscribed",
    "subscription": {"name": "ownTrades"},
}
HEARTBEAT: dict[str, Any] = {"event": "heartbeat"}
PONG: dict[str, Any] = {"event": "pong", "reqid": 1}

# REST: POST /0/private/GetWebSocketsToken.
TOKEN_GRANTED: dict[str, Any] = {
    "error": [],
    "result": {"token": "1Dwc4lzSwNWOAwkMdqhssNNFhs1ed606d1WcF3XfEMw", "expires": 900},
}
INVALID_KEY: dict[str, Any] = {"error": ["EAPI:Invalid key"]}
UNAVAILABLE: dict[str, Any] = {"error": ["EService:Unavailable"]}
