"""Frames as Binance's spot WebSocket API sends them on a user data subscription (shapes from its docs), for tests."""

from typing import Any

ORDER_UPDATE: dict[str, Any] = {
    "subscriptionId": 0,
    "event": {
        "e": "executionReport",
        "E": 1795568753027,
        "s": "BTCUSDT",
        "c": "mUvoqJxFIILMdfAW5iGSOW",
        "S": "BUY",
        "o": "LIMIT",
        "f": "GTC",
        "q": "1.00000000",
        "p": "0.10264410",
        "P": "0.00000000",
        "F": "0.00000000",
        "g": -1,
        "C": "",
        "x": "NEW",
        "X": "NEW",
        "r": "NONE",
        "i": 4293153,
        "l": "0.00000000",
        "z": "0.00000000",
        "L": "0.00000000",
        "n": "0",
        "N": None,
        "T": 1795568753027,
        "t": -1,
        "I": 8641984,
        "w": True,
        "m": False,
        "M": False,
        "O": 1795568753027,
        "Z": "0.00000000",
        "Y": "0.00000000",
        "Q": "0.00000000",
        "W": 1795568753027,
        "V": "EXPIRE_MAKER",
    },
}
FILL: dict[str, Any] = {
    "subscriptionId": 0,
    "event": {
        **ORDER_UPDATE["event"],
        "E": 1795568753127,
        "x": "TRADE",
        "X": "FILLED",
        "l": "1.00000000",
        "z": "1.00000000",
        "L": "0.10264410",
        "n": "0.00010000",
        "N": "BNB",
        "T": 1795568753127,
        "t": 1234,
        "I": 8641985,
        "w": False,
        "Z": "0.10264410",
        "Y": "0.10264410",
        "Q": "0.00000000",
    },
}
ACCOUNT_POSITION: dict[str, Any] = {
    "subscriptionId": 0,
    "event": {
        "e": "outboundAccountPosition",
        "E": 1795568753127,
        "u": 1795568753127,
        "B": [
            {"a": "BTC", "f": "1.00000000", "l": "0.00000000"},
            {"a": "USDT", "f": "999.89735590", "l": "0.00000000"},
        ],
    },
}
BALANCE_UPDATE: dict[str, Any] = {
    "subscriptionId": 0,
    "event": {"e": "balanceUpdate", "E": 1795568753227, "a": "USDT", "d": "100.00000000", "T": 1795568753227},
}
SUBSCRIBED: dict[str, Any] = {
    "id": 1,
    "status": 200,
    "result": {"subscriptionId": 0},
}
INVALID_SIGNATURE: dict[str, Any] = {
    "id": 1,
    "status": 400,
    "error": {"code": -1022, "msg": "Signature for this request is not valid."},
}
TIMESTAMP_OUTSIDE_RECV_WINDOW: dict[str, Any] = {
    "id": 1,
    "status": 400,
    "error": {"code": -1021, "msg": "Timestamp for this request is outside of the recvWindow."},
}
STREAM_TERMINATED: dict[str, Any] = {
    "subscriptionId": 0,
    "event": {"e": "eventStreamTerminated", "E": 1795568753327},
}
SERVER_TIME: dict[str, Any] = {"serverTime": 1795568753027}
