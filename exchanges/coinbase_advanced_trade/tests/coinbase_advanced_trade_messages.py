"""Frames as Coinbase Advanced Trade's user-order WebSocket sends them (shapes from its docs), for the tests."""

from typing import Any

OPEN_ORDER: dict[str, Any] = {
    "order_id": "a1b2c3d4-e5f6-7890-abcd-ef1234567890",
    "client_order_id": "11111-000000-000001",
    "cumulative_quantity": "0",
    "leaves_quantity": "0.001",
    "avg_price": "0",
    "total_fees": "0",
    "status": "OPEN",
    "product_id": "BTC-USD",
    "creation_time": "2026-11-25T06:25:53.027Z",
    "order_side": "BUY",
    "order_type": "Limit",
    "cancel_reason": "",
    "reject_reason": "",
    "limit_price": "68900.5",
    "product_type": "SPOT",
    "time_in_force": "GOOD_UNTIL_CANCELLED",
    "trigger_status": "INVALID_ORDER_TYPE",
}
SNAPSHOT: dict[str, Any] = {
    "channel": "user",
    "client_id": "",
    "timestamp": "2026-11-25T06:25:53.027000Z",
    "sequence_num": 2,
    "events": [{"type": "snapshot", "orders": []}],
}
ORDER_UPDATE: dict[str, Any] = {
    "channel": "user",
    "client_id": "",
    "timestamp": "2026-11-25T06:25:53.127000Z",
    "sequence_num": 3,
    "events": [{"type": "update", "orders": [OPEN_ORDER]}],
}
FILL: dict[str, Any] = {
    "channel": "user",
    "client_id": "",
    "timestamp": "2026-11-25T06:25:53.227000Z",
    "sequence_num": 4,
    "events": [
        {
            "type": "update",
            "orders": [
                {
                    **OPEN_ORDER,
                    "status": "FILLED",
                    "cumulative_quantity": "0.001",
                    "leaves_quantity": "0",
                    "avg_price": "68900.5",
                    "total_fees": "0.413403",
                }
            ],
        }
    ],
}
SUBSCRIBED: dict[str, Any] = {
    "channel": "subscriptions",
    "client_id": "",
    "timestamp": "2026-11-25T06:25:53.017000Z",
    "sequence_num": 0,
    "events": [
        {
            "subscriptions": {"user": []},
        }
    ],
}
AUTHENTICATION_FAILURE: dict[str, Any] = {"type": "error", "message": "authentication failure"}
HEARTBEAT: dict[str, Any] = {
    "channel": "heartbeats",
    "client_id": "",
    "timestamp": "2026-11-25T06:25:54.027000Z",
    "sequence_num": 5,
    "events": [{"current_time": "2026-11-25 06:25:54.026421000 +0000 UTC", "heartbeat_counter": 1}],
}
