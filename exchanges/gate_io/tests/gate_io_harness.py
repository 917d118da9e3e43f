"""How the userstream connector contract runs this connector: against userstream's Gate spot v4 fake."""

from collections.abc import Mapping, Sequence
from typing import Any

import gate_io_messages as messages
from userstream.testing import Dialect, FakeExchange
from userstream.testing.contract import WebSocketHarness
from userstream.testing.dialects import gate_io

from gate_io.gate_io_api_user_stream_data_source import GateIoAPIUserStreamDataSource
from gate_io.gate_io_auth import GateIoAuth


class GateIoHarness(WebSocketHarness):
    data_source_class = GateIoAPIUserStreamDataSource
    auth_class = GateIoAuth

    def dialect(self) -> Dialect:
        return gate_io.GateIoSpotDialect()

    def install(self, exchange: FakeExchange) -> None:
        gate_io.install(exchange)  # the time endpoint, and the fake's frames stamped with its own clock

    def endpoints(self, exchange: FakeExchange) -> Mapping[str, str]:
        # The same path as Gate's own wss://api.gateio.ws/ws/v4/.
        return {"ws_url": exchange.ws_url + "/v4/", "rest_url": exchange.rest_url}

    def user_events(self) -> Sequence[Any]:
        return [messages.ORDER_UPDATE, messages.FILL, messages.BALANCE_UPDATE]
