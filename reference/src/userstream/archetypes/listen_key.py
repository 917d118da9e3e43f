"""The listen-key archetype: a REST call mints a key, the WebSocket URL carries it, a REST keepalive extends it.

Binance (USD-M and COIN-M futures, margin, the older spot flow) and the exchanges that copied its API
(MEXC, Aster, ...) authenticate private streams this way. There is no login and no subscribe: whoever
holds the key may read the account's stream, so the URL is the credential. What this block owns:

- **Creating the key.** ``POST <LISTEN_KEY_PATH>`` with the API key in a header (``API_KEY_HEADER``),
  before *every* connection, through a `ConnectionCredential` so concurrent reconnects mint one key.
  Binance answers a POST with the account's active key when there is one (extending it by 60
  minutes) and a new key otherwise, so a fresh POST per connection costs one weight-1 call and
  guarantees a reconnect never dials a key that died while we were away (the alternative, caching
  the key, needs the loop to report a refused WebSocket upgrade, which it does not).
- **Keeping it alive.** ``PUT <LISTEN_KEY_PATH>`` every ``keepalive_interval`` seconds, run as a
  `connection_jobs()` job so it lives exactly as long as its connection. A failed keepalive raises
  `KeepaliveFailed`: the connection ends, the key is forgotten and the reconnect creates a new one.
- **Expiry and termination events.** Frames whose event type is in ``TERMINATION_EVENTS``
  (Binance: ``listenKeyExpired``) classify as `FrameKind.RECONNECT`; the loop then calls
  `discard_credentials()` and reconnects with a new key.
- **Releasing it.** `on_stop()` forgets the key and sends a best-effort ``DELETE`` bounded by
  ``CLOSE_TIMEOUT``; a failure is logged, never raised (an orphaned key expires on its own).

A concrete connector fills in constants, and overrides the small pure methods only where its
exchange differs::

    class BinanceFuturesUserStreamDataSource(ListenKeyDataSource):
        LISTEN_KEY_PATH = "/fapi/v1/listenKey"
        API_KEY_HEADER = "X-MBX-APIKEY"
        KEEPALIVE_INTERVAL = 30 * 60.0  # the key lives 60 minutes; extend it at half-life
        EVENT_TYPE_FIELD = "e"
        TERMINATION_EVENTS = {"listenKeyExpired": "the listen key expired"}

    data_source = BinanceFuturesUserStreamDataSource(
        MarketAuth(api_key, secret), ws_url="wss://fstream.binance.com/ws", rest_url="https://fapi.binance.com"
    )

Required constants: ``LISTEN_KEY_PATH``, ``API_KEY_HEADER``, ``KEEPALIVE_INTERVAL``,
``EVENT_TYPE_FIELD``, ``TERMINATION_EVENTS``. Optional: ``LISTEN_KEY_PARAM`` (the query parameter
naming the key on PUT and DELETE; Binance spot ``"listenKey"``, None where the API key identifies it,
as on Binance futures) and ``CLOSE_TIMEOUT``. Pure hooks with defaults: `stream_url` (the URL shape),
`parse_listen_key`, `event_type`, `classify_event` (frames that are not termination events),
`describe_rest_error` and `is_credential_rejection`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from userstream.auth import MarketAuth
from userstream.credentials import ConnectionCredential
from userstream.data_source import ConnectionJob, UserStreamTrackerDataSource
from userstream.errors import AuthenticationError, ConnectionLost, RestError
from userstream.frames import ConnectionTarget, FrameKind
from userstream.rest import REST_FAILURES

_REQUIRED_CONSTANTS = (
    "LISTEN_KEY_PATH",
    "API_KEY_HEADER",
    "KEEPALIVE_INTERVAL",
    "EVENT_TYPE_FIELD",
    "TERMINATION_EVENTS",
)


class KeepaliveFailed(ConnectionLost):
    """The listen key could not be extended: the connection ends so that a new key is created."""


class ListenKeyDataSource(UserStreamTrackerDataSource):
    """A user stream authenticated by a listen key in the WebSocket URL (see the module docstring).

    ``auth`` supplies the API key (the secret is not used: listen-key endpoints are not signed);
    ``rest_url`` is required. ``keepalive_interval`` overrides ``KEEPALIVE_INTERVAL`` (tests use 0.1 s).
    """

    LISTEN_KEY_PATH: ClassVar[str]
    """REST path to create (POST), extend (PUT) and close (DELETE) the key; Binance USD-M: ``/fapi/v1/listenKey``."""
    API_KEY_HEADER: ClassVar[str]
    """Header carrying the API key on those calls. Binance: ``X-MBX-APIKEY``."""
    KEEPALIVE_INTERVAL: ClassVar[float]
    """Seconds between keepalive PUTs: well inside the key's lifetime. Binance: 30 minutes of 60."""
    EVENT_TYPE_FIELD: ClassVar[str]
    """The field naming an event's type in each frame. Binance: ``e``."""
    TERMINATION_EVENTS: ClassVar[Mapping[str, str]]
    """Event types that end the stream, each with a readable reason. Binance: ``listenKeyExpired``."""
    LISTEN_KEY_PARAM: ClassVar[str | None] = None
    """Query parameter naming the key on PUT and DELETE, or None if the API key identifies it."""
    CLOSE_TIMEOUT: ClassVar[float] = 2.0
    """How long `on_stop` waits for the DELETE: shutting down must not hang on a slow exchange."""

    def __init__(
        self, auth: MarketAuth | None = None, *, keepalive_interval: float | None = None, **options: Any
    ) -> None:
        missing = [name for name in _REQUIRED_CONSTANTS if not hasattr(type(self), name)]
        if missing:
            raise TypeError(f"{type(self).__name__} must set {', '.join(missing)} (see ListenKeyDataSource)")
        super().__init__(auth, **options)
        if self.auth is None:
            raise ValueError(f"{type(self).__name__} needs a MarketAuth: its API key creates the listen key")
        if self.rest_url is None:
            raise ValueError(f"{type(self).__name__} needs a rest_url: the listen key is created over REST")
        self.keepalive_interval = self.KEEPALIVE_INTERVAL if keepalive_interval is None else keepalive_interval
        if not self.keepalive_interval > 0:
            raise ValueError(f"keepalive_interval must be a positive number of seconds, got {keepalive_interval!r}")
        self.listen_keys = ConnectionCredential(self._create_listen_key, secret=str, conceal=self.auth.conceal)

    @property
    def listen_key(self) -> str | None:
        """The key the current (or last) connection uses; None before the first and after it is discarded."""
        return self.listen_keys.current

    @property
    def listen_keys_created(self) -> int:
        """How many POSTs were made to create a key (concurrent requests share one)."""
        return self.listen_keys.fetch_count

    # --- pure hooks: override where the exchange differs ----------------------------------------

    def stream_url(self, listen_key: str) -> str:
        """The WebSocket URL for ``listen_key``: ``<ws_url>/<key>`` (Binance: ws_url ``wss://fstream.binance.com/ws``)."""
        return f"{self.ws_url.rstrip('/')}/{listen_key}"

    def parse_listen_key(self, reply: Any) -> str:
        """The key in the reply to the creating POST (``{"listenKey": ...}``); ValueError if there is none."""
        key = reply.get("listenKey") if isinstance(reply, Mapping) else None
        if not isinstance(key, str) or not key:
            raise ValueError(f"no listen key in the reply to POST {self.LISTEN_KEY_PATH}: {self.quote(repr(reply))}")
        return key

    def event_type(self, message: Any) -> str | None:
        """The event type of a frame, or None if it has none."""
        if not isinstance(message, Mapping):
            return None
        event = message.get(self.EVENT_TYPE_FIELD)
        return event if isinstance(event, str) else None

    def classify_event(self, message: Any, event: str | None) -> FrameKind:
        """The kind of a frame that is not a termination event: any typed event is user data by default.

        Listen-key streams carry nothing but the account's events, so a new event type the connector
        does not know yet (Binance adds them: ``TRADE_LITE``, ``ALGO_UPDATE``) still reaches the bot.
        """
        return FrameKind.USER_MESSAGE if event is not None else FrameKind.MALFORMED

    def describe_rest_error(self, body: Any) -> str:
        """The exchange's words from a REST error reply (``{"code": -2015, "msg": "..."}`` on Binance)."""
        if isinstance(body, Mapping):
            message = body.get("msg", body.get("message"))
            if message is not None:
                code = body.get("code")
                return f"{message} (code {code})" if code is not None else str(message)
        return self.quote(body if isinstance(body, str) else repr(body), 300)

    def is_credential_rejection(self, error: RestError) -> bool:
        """Whether a failed POST means the API key itself was refused (logged as an authentication error)."""
        return error.status in (401, 403)

    # --- the base class's hooks -------------------------------------------------------------------

    async def connection_target(self) -> ConnectionTarget:
        # A fresh POST per connection (see the module docstring).
        return ConnectionTarget(self.stream_url(await self.listen_keys.fresh()))

    def connection_jobs(self) -> Sequence[ConnectionJob]:
        key = self.listen_keys.current
        if key is None:
            return ()

        async def keep_alive() -> None:
            await self._keep_listen_key_alive(key)

        return (keep_alive,)

    def classify(self, message: Any) -> FrameKind:
        event = self.event_type(message)
        if event is not None and event in self.TERMINATION_EVENTS:
            return FrameKind.RECONNECT
        return self.classify_event(message, event)

    def describe_rejection(self, message: Any) -> str:
        event = self.event_type(message)
        if event is not None and event in self.TERMINATION_EVENTS:
            return f"{self.TERMINATION_EVENTS[event]} ({event})"
        return super().describe_rejection(message)

    def discard_credentials(self) -> None:
        self.listen_keys.discard()

    async def on_stop(self) -> None:
        key = self.listen_keys.current
        await self.listen_keys.close()  # a POST still in flight is cancelled: its key expires unused
        if key is None:
            return
        try:
            async with asyncio.timeout(self.CLOSE_TIMEOUT):
                await self._listen_key_request("DELETE", key)
        except REST_FAILURES as error:
            reason = self.describe_rest_error(error.body) if isinstance(error, RestError) else repr(error)
            self.logger.warning("could not close the listen key (it will expire on its own): %s", reason)
        else:
            self.logger.info("listen key closed")

    # --- mechanics ----------------------------------------------------------------------------------

    async def _create_listen_key(self) -> str:
        try:
            reply = await self._listen_key_request("POST", None)
        except RestError as error:
            if self.is_credential_rejection(error):
                raise AuthenticationError(
                    f"the exchange refused a listen key: {self.describe_rest_error(error.body)}"
                ) from error
            raise
        key = self.parse_listen_key(reply)
        self.logger.info("listen key created")
        return key

    async def _keep_listen_key_alive(self, key: str) -> None:
        while True:
            await asyncio.sleep(self.keepalive_interval)
            try:
                await self._listen_key_request("PUT", key)
            except REST_FAILURES as error:
                # The key may already be gone (-1125 on Binance): forget it so the reconnect mints a new one.
                if self.listen_keys.current == key:
                    self.discard_credentials()
                reason = self.describe_rest_error(error.body) if isinstance(error, RestError) else repr(error)
                raise KeepaliveFailed(f"listen key keepalive failed: {reason}") from error
            self.logger.debug("listen key extended")

    async def _listen_key_request(self, method: str, key: str | None) -> Any:
        assert self.auth is not None  # checked in __init__
        params = {self.LISTEN_KEY_PARAM: key} if key is not None and self.LISTEN_KEY_PARAM else None
        return await self.rest_request(
            method, self.LISTEN_KEY_PATH, params=params, headers={self.API_KEY_HEADER: self.auth.api_key}
        )
