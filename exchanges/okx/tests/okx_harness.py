"""How the userstream connector contract runs this connector: against userstream's OKX v5 fake."""

from collections.abc import Mapping, Sequence
from typing import Any

import okx_messages as messages
from userstream.testing import Credentials, Dialect, FakeExchange
from userstream.testing.contract import WebSocketHarness
from userstream.testing.dialects import okx

from okx.okx_api_user_stream_data_source import OkxAPIUserStreamDataSource
from okx.okx_auth import OkxAuth


class OkxHarness(WebSocketHarness):
    data_source_class = OkxAPIUserStreamDataSource
    auth_class = OkxAuth

    def dialect(self) -> Dialect:
        return okx.OkxDialect()

    def credentials(self) -> Credentials:
        return okx.credentials()

    def install(self, exchange: FakeExchange) -> None:
        okx.install(exchange)

    def endpoints(self, exchange: FakeExchange) -> Mapping[str, str]:
        return {"ws_url": okx.private_url(exchange), "rest_url": exchange.rest_url}

    def user_events(self) -> Sequence[Any]:
        return [messages.ORDER_UPDATE, messages.FILL, messages.BALANCE_UPDATE]
