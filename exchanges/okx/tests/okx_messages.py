"""Frames as OKX v5 sends them on the private stream (shapes from its docs), for the tests."""

from typing import Any

ORDER_UPDATE: dict[str, Any] = {
    "arg": {"channel": "orders", "instType": "SPOT", "uid": "44012345678901234"},
    "data": [
        {
            "instType": "SPOT",
            "instId": "BTC-USDT",
            "ordId": "680800019749904384",
            "clOrdId": "b15",
            "px": "30000",
            "sz": "0.01",
            "ordType": "limit",
            "side": "buy",
            "tdMode": "cash",
            "state": "live",
            "accFillSz": "0",
            "fillSz": "0",
            "fillPx": "",
            "tradeId": "",
            "fillTime": "",
            "avgPx": "0",
            "fee": "0",
            "feeCcy": "USDT",
            "execType": "",
            "code": "0",
            "msg": "",
            "cTime": "1795568753027",
            "uTime": "1795568753027",
        }
    ],
}
FILL: dict[str, Any] = {
    "arg": {"channel": "orders", "instType": "SPOT", "uid": "44012345678901234"},
    "data": [
        {
            **ORDER_UPDATE["data"][0],
            "state": "filled",
            "accFillSz": "0.01",
            "fillSz": "0.01",
            "fillPx": "30000",
            "tradeId": "1468",
            "fillTime": "1795568753127",
            "avgPx": "30000",
            "fee": "-0.0003",
            "execType": "T",
            "uTime": "1795568753127",
        }
    ],
}
BALANCE_UPDATE: dict[str, Any] = {
    "arg": {"channel": "account", "uid": "44012345678901234"},
    "eventType": "event_update",
    "data": [
        {
            "uTime": "1795568753127",
            "totalEq": "",
            "details": [
                {
                    "ccy": "USDT",
                    "cashBal": "100",
                    "availBal": "90",
                    "frozenBal": "10",
                    "eq": "100",
                    "availEq": "90",
                    "ordFrozen": "10",
                    "uTime": "1795568753127",
                }
            ],
        }
    ],
}
LOGIN_OK: dict[str, Any] = {"event": "login", "code": "0", "msg": "", "connId": "a4d3ae55"}
LOGIN_REFUSED: dict[str, Any] = {"event": "error", "code": "60007", "msg": "Invalid sign", "connId": "a4d3ae55"}
SUBSCRIBED: dict[str, Any] = {
    "event": "subscribe",
    "arg": {"channel": "orders", "instType": "SPOT"},
    "connId": "a4d3ae55",
}
CONNECTION_COUNT: dict[str, Any] = {
    "event": "channel-conn-count",
    "channel": "orders",
    "connCount": "1",
    "connId": "a4d3ae55",
}
SERVICE_UPGRADE: dict[str, Any] = {
    "event": "notice",
    "code": "64008",
    "msg": "The connection will soon be closed for a service upgrade. Please reconnect.",
    "connId": "a4d3ae55",
}
SERVER_TIME: dict[str, Any] = {"code": "0", "msg": "", "data": [{"ts": "1795568753027"}]}
