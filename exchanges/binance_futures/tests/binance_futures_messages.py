"""Frames and REST replies as Binance USDⓈ-M futures sends them for a user data stream (shapes from its docs)."""

from typing import Any

LISTEN_KEY: dict[str, Any] = {"listenKey": "pqia91ma19a5s61cv6a81va65sdf19v8a65a1a5s61cv6a81va65sdf19v8a65a1"}
ORDER_UPDATE: dict[str, Any] = {
    "e": "ORDER_TRADE_UPDATE",
    "E": 1795568753028,
    "T": 1795568753027,
    "o": {
        "s": "BTCUSDT",
        "c": "userstream-1",
        "S": "BUY",
        "o": "LIMIT",
        "f": "GTC",
        "q": "0.001",
        "p": "60000",
        "ap": "0",
        "sp": "0",
        "x": "NEW",
        "X": "NEW",
        "i": 8886774,
        "l": "0",
        "z": "0",
        "L": "0",
        "T": 1795568753027,
        "t": 0,
        "b": "60",
        "a": "0",
        "m": False,
        "R": False,
        "wt": "CONTRACT_PRICE",
        "ot": "LIMIT",
        "ps": "BOTH",
        "cp": False,
        "rp": "0",
        "pP": False,
        "si": 0,
        "ss": 0,
        "V": "EXPIRE_TAKER",
        "pm": "NONE",
        "gtd": 0,
    },
}
FILL: dict[str, Any] = {
    "e": "ORDER_TRADE_UPDATE",
    "E": 1795568753128,
    "T": 1795568753127,
    "o": {
        **ORDER_UPDATE["o"],
        "ap": "60000",
        "x": "TRADE",
        "X": "FILLED",
        "l": "0.001",
        "z": "0.001",
        "L": "60000",
        "T": 1795568753127,
        "t": 1001,
        "b": "0",
        "N": "USDT",
        "n": "0.024",
    },
}
ACCOUNT_UPDATE: dict[str, Any] = {
    "e": "ACCOUNT_UPDATE",
    "E": 1795568753128,
    "T": 1795568753127,
    "a": {
        "m": "ORDER",
        "B": [{"a": "USDT", "wb": "999.976", "cw": "999.976", "bc": "0"}],
        "P": [
            {
                "s": "BTCUSDT",
                "pa": "0.001",
                "ep": "60000",
                "bep": "60024",
                "cr": "0",
                "up": "0",
                "mt": "cross",
                "iw": "0",
                "ps": "BOTH",
            }
        ],
    },
}
TRADE_LITE: dict[str, Any] = {
    "e": "TRADE_LITE",
    "E": 1795568753129,
    "T": 1795568753127,
    "s": "BTCUSDT",
    "q": "0.001",
    "p": "60000",
    "m": False,
    "c": "userstream-1",
    "S": "BUY",
    "L": "60000",
    "l": "0.001",
    "t": 1001,
    "i": 8886774,
}
LISTEN_KEY_EXPIRED: dict[str, Any] = {
    "e": "listenKeyExpired",
    "E": 1795572353027,
    "listenKey": "pqia91ma19a5s61cv6a81va65sdf19v8a65a1a5s61cv6a81va65sdf19v8a65a1",
}
INVALID_API_KEY: dict[str, Any] = {"code": -2015, "msg": "Invalid API-key, IP, or permissions for action."}
SERVER_TIME: dict[str, Any] = {"serverTime": 1795568753027}
