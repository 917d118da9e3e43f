"""Frames as Gate's spot WebSocket v4 sends them on the private channels (shapes from its docs), for the tests."""

from typing import Any

ORDER_UPDATE: dict[str, Any] = {
    "time": 1795568753,
    "time_ms": 1795568753027,
    "channel": "spot.orders",
    "event": "update",
    "result": [
        {
            "id": "399123456",
            "text": "t-my-order",
            "create_time": "1795568753",
            "update_time": "1795568753",
            "create_time_ms": "1795568753027",
            "update_time_ms": "1795568753027",
            "currency_pair": "BTC_USDT",
            "type": "limit",
            "account": "spot",
            "side": "buy",
            "amount": "0.0001",
            "price": "26253.3",
            "time_in_force": "gtc",
            "left": "0.0001",
            "filled_total": "0",
            "avg_deal_price": "0",
            "fee": "0",
            "fee_currency": "BTC",
            "point_fee": "0",
            "gt_fee": "0",
            "rebated_fee": "0",
            "rebated_fee_currency": "USDT",
            "user": 1000001,
            "event": "put",
            "stp_id": 0,
            "stp_act": "-",
            "finish_as": "open",
            "biz_info": "-",
            "amend_text": "-",
        }
    ],
}
FILL: dict[str, Any] = {
    "time": 1795568753,
    "time_ms": 1795568753127,
    "channel": "spot.usertrades",
    "event": "update",
    "result": [
        {
            "id": 5736713,
            "user_id": 1000001,
            "order_id": "399123456",
            "currency_pair": "BTC_USDT",
            "create_time": 1795568753,
            "create_time_ms": "1795568753127.123",
            "side": "buy",
            "amount": "0.0001",
            "role": "taker",
            "price": "26253.3",
            "fee": "0.00000020",
            "fee_currency": "BTC",
            "point_fee": "0",
            "gt_fee": "0",
            "text": "t-my-order",
            "id_market": 5736713,
        }
    ],
}
BALANCE_UPDATE: dict[str, Any] = {
    "time": 1795568753,
    "time_ms": 1795568753128,
    "channel": "spot.balances",
    "event": "update",
    "result": [
        {
            "timestamp": "1795568753",
            "timestamp_ms": "1795568753128",
            "user": "1000001",
            "currency": "USDT",
            "change": "-2.6253",
            "total": "997.3747",
            "available": "997.3747",
            "freeze": "0",
            "freeze_change": "0",
            "change_type": "order-match",
        }
    ],
}
SUBSCRIBED: dict[str, Any] = {
    "time": 1795568753,
    "time_ms": 1795568753027,
    "id": 1,
    "channel": "spot.orders",
    "event": "subscribe",
    "error": None,
    "result": {"status": "success"},
}
AUTHENTICATION_FAIL: dict[str, Any] = {
    "time": 1795568753,
    "time_ms": 1795568753027,
    "id": 1,
    "channel": "spot.orders",
    "event": "subscribe",
    "error": {"code": 4, "message": "Authentication fail"},
    "result": None,
}
INVALID_ARGUMENT: dict[str, Any] = {
    "time": 1795568753,
    "time_ms": 1795568753027,
    "id": 1,
    "channel": "spot.orders",
    "event": "subscribe",
    "error": {"code": 2, "message": "Invalid argument provided"},
    "result": None,
}
PONG: dict[str, Any] = {
    "time": 1795568753,
    "time_ms": 1795568753027,
    "channel": "spot.pong",
    "event": "",
    "error": None,
    "result": None,
}
SERVER_TIME: dict[str, Any] = {"server_time": 1795568753027}
