"""Frames as Bybit v5 sends them on the private stream (shapes from its docs), for the tests."""

from typing import Any

ORDER_UPDATE: dict[str, Any] = {
    "id": "1811634547419049216-1795568753027",
    "topic": "order",
    "creationTime": 1795568753027,
    "data": [
        {
            "category": "spot",
            "symbol": "BTCUSDT",
            "orderId": "1811634547419049216",
            "orderLinkId": "bot-1",
            "side": "Buy",
            "orderType": "Limit",
            "price": "30000",
            "qty": "0.01",
            "timeInForce": "GTC",
            "orderStatus": "New",
            "cancelType": "UNKNOWN",
            "rejectReason": "EC_NoError",
            "avgPrice": "",
            "leavesQty": "0.01",
            "cumExecQty": "0",
            "cumExecValue": "0",
            "cumExecFee": "0",
            "feeCurrency": "BTC",
            "createdTime": "1795568753027",
            "updatedTime": "1795568753027",
        }
    ],
}
EXECUTION: dict[str, Any] = {
    "id": "2100000000062580127-1795568753127",
    "topic": "execution",
    "creationTime": 1795568753127,
    "data": [
        {
            "category": "spot",
            "symbol": "BTCUSDT",
            "orderId": "1811634547419049216",
            "orderLinkId": "bot-1",
            "side": "Buy",
            "orderPrice": "30000",
            "orderQty": "0.01",
            "leavesQty": "0.006",
            "orderType": "Limit",
            "execId": "2100000000062580127",
            "execPrice": "30000",
            "execQty": "0.004",
            "execValue": "120",
            "execFee": "0.000004",
            "feeRate": "0.001",
            "execType": "Trade",
            "execTime": "1795568753127",
            "isMaker": False,
            "seq": 4688002127,
        }
    ],
}
WALLET_UPDATE: dict[str, Any] = {
    "id": "592324d2bce751-ad38-48eb-8f42-4671d1fb4d4e",
    "topic": "wallet",
    "creationTime": 1795568753127,
    "data": [
        {
            "accountType": "UNIFIED",
            "totalEquity": "",
            "totalWalletBalance": "",
            "coin": [
                {
                    "coin": "USDT",
                    "equity": "879.998",
                    "walletBalance": "879.998",
                    "locked": "120",
                    "usdValue": "",
                    "unrealisedPnl": "0",
                    "cumRealisedPnl": "0",
                }
            ],
        }
    ],
}
AUTH_OK: dict[str, Any] = {"success": True, "ret_msg": "", "op": "auth", "conn_id": "cejreaspqfh3sjdnldmg-p"}
AUTH_REFUSED: dict[str, Any] = {
    "success": False,
    "ret_msg": "Invalid sign",
    "op": "auth",
    "conn_id": "cejreaspqfh3sjdnldmg-p",
}
AUTH_EXPIRED: dict[str, Any] = {
    "success": False,
    "ret_msg": "Params Error",
    "op": "auth",
    "conn_id": "cejreaspqfh3sjdnldmg-p",
}
SUBSCRIBED: dict[str, Any] = {"success": True, "ret_msg": "", "op": "subscribe", "conn_id": "cejreaspqfh3sjdnldmg-p"}
SUBSCRIBE_REFUSED: dict[str, Any] = {
    "success": False,
    "ret_msg": "error:handler not found,topic:orders",
    "op": "subscribe",
    "conn_id": "cejreaspqfh3sjdnldmg-p",
}
PONG: dict[str, Any] = {"req_id": "", "op": "pong", "args": ["1795568753127"], "conn_id": "cejreaspqfh3sjdnldmg-p"}
PUBLIC_PONG: dict[str, Any] = {
    "success": True,
    "ret_msg": "pong",
    "conn_id": "0970e817-426e-429a-a679-ff7f55e0b16a",
    "op": "ping",
}
SERVER_TIME: dict[str, Any] = {
    "retCode": 0,
    "retMsg": "OK",
    "result": {"timeSecond": "1688639403", "timeNano": "1688639403423213947"},
    "retExtInfo": {},
    "time": 1688639403423,
}
