"""Frames and REST replies as KuCoin sends them for the spot private stream (shapes from its docs), for the tests."""

from typing import Any

ORDER_UPDATE: dict[str, Any] = {
    "type": "message",
    "topic": "/spotMarket/tradeOrdersV2",
    "subject": "orderChange",
    "channelType": "private",
    "data": {
        "symbol": "BTC-USDT",
        "orderType": "limit",
        "side": "buy",
        "orderId": "6712c8b1e2f5a30007e5d8c1",
        "type": "open",
        "orderTime": 1795568753027,
        "size": "0.1",
        "filledSize": "0",
        "price": "30000",
        "clientOid": "bot-1",
        "remainSize": "0.1",
        "status": "open",
        "ts": 1795568753027000000,
    },
}
FILL: dict[str, Any] = {
    "type": "message",
    "topic": "/spotMarket/tradeOrdersV2",
    "subject": "orderChange",
    "channelType": "private",
    "data": {
        **ORDER_UPDATE["data"],
        "type": "match",
        "status": "match",
        "filledSize": "0.1",
        "remainSize": "0",
        "matchPrice": "30000",
        "matchSize": "0.1",
        "tradeId": "11116472408846337",
        "liquidity": "taker",
        "feeType": "takerFee",
        "ts": 1795568753127000000,
    },
}
BALANCE_UPDATE: dict[str, Any] = {
    "type": "message",
    "topic": "/account/balance",
    "subject": "account.balance",
    "channelType": "private",
    "data": {
        "total": "970",
        "available": "970",
        "availableChange": "-30",
        "currency": "USDT",
        "hold": "0",
        "holdChange": "0",
        "relationEvent": "trade.setted",
        "relationEventId": "3f3c16c17fd44060a0efdc31",
        "relationContext": {"symbol": "BTC-USDT", "orderId": "6712c8b1e2f5a30007e5d8c1"},
        "time": "1795568753127",
    },
}
WELCOME: dict[str, Any] = {"id": "hQvf8jkno", "type": "welcome"}
SUBSCRIBED: dict[str, Any] = {"id": "1545910660739", "type": "ack"}
PONG: dict[str, Any] = {"id": "1545910590801", "type": "pong"}
TOKEN_INVALID: dict[str, Any] = {"id": "hQvf8jkno", "type": "error", "code": 401, "data": "token is invalid"}
TOPIC_NOT_FOUND: dict[str, Any] = {
    "id": "1545910660739",
    "type": "error",
    "code": 404,
    "data": "topic /spotMarket/tradeOrders is not found",
}

# REST: POST /api/v1/bullet-private and GET /api/v1/timestamp.
TOKEN_GRANTED: dict[str, Any] = {
    "code": "200000",
    "data": {
        "token": (
            "2neAiuYvAU61ZDXANAGAsiL4-iAExhsBXZxftpOeh_55i3Ysy2q2LEsEWU64mdzUOPusi34M_wGoSf7i"
            "NyEWJ4aBZXpWhrmY9jKtqkdWoFa75w3istPvPtiYB9J6i9GjsxUuhPw3BlrzazF6ghq4L_u0MhKxG3x8"
            "TeN4aVbNiYo=.mvnekBb8DJegZIgYTs2FBQ=="
        ),
        "instanceServers": [
            {
                "endpoint": "wss://ws-api-spot.kucoin.com/",
                "encrypt": True,
                "protocol": "websocket",
                "pingInterval": 18000,
                "pingTimeout": 10000,
            }
        ],
    },
}
KEY_NOT_EXISTS: dict[str, Any] = {"code": "400003", "msg": "KC-API-KEY not exists"}
INVALID_TIMESTAMP: dict[str, Any] = {"code": "400002", "msg": "Invalid KC-API-TIMESTAMP"}
SERVER_TIME: dict[str, Any] = {"code": "200000", "msg": "success", "data": 1795568753027}
