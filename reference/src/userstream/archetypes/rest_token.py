"""REST token: a signed REST call mints the token that opens, or subscribes on, the private stream.

KuCoin (``POST /api/v1/bullet-private``: token, endpoint and ping interval; the token goes in the
connection URL) and Kraken (``POST /0/private/GetWebSocketsToken``: a token every subscribe message
carries) authenticate their user streams this way. The block owns the mechanics they share:

- **One token per connection.** `connection_target()` mints a token before every connection, so a
  reconnect never reuses one the exchange may have expired or revoked. Whatever refused the old
  token (an HTTP 401 at the upgrade, a subscribe error, a termination frame), the next attempt
  fetches again.
- **Single flight.** Calls that overlap share one fetch (`ConnectionCredential`): however many
  reconnects ask at once, the exchange mints one token.
- **The exchange's terms.** An endpoint and a ping interval in the grant are honoured: the
  connection goes to that endpoint and pings at that rate.
- **Rejections in the exchange's words.** A refused token call (HTTP 400/401/403, or an error the
  connector finds in the reply) ends the attempt with an `AuthenticationError` carrying the
  exchange's message; the loop logs it once and backs off. A call that blames our clock
  (`is_clock_skew`) is re-signed after measuring the offset (`SERVER_TIME_PATH`).
- **Nothing left behind.** `stop()` cancels a fetch in flight and forgets the token.

A connector fills in constants and small pure methods:

=============================  ============================================================================
``TOKEN_PATH``                 the token endpoint (required); ``TOKEN_METHOD`` defaults to ``"POST"``
`parse_token_reply`            the reply as a `TokenGrant` (required); raise `AuthenticationError` with the
                               exchange's words for an error carried in a successful HTTP reply (Kraken)
`classify`                     what a frame means (required, as for every data source)
``TOKEN_QUERY_PARAM``          the URL query parameter carrying the token (KuCoin ``"token"``); None when
                               the token goes in the subscribe messages instead (Kraken: use `token`)
`connection_query`             more query parameters, fresh per connection (KuCoin's ``connectId``)
`token_request_body`,          the token call's body (Kraken's ``nonce=...`` form) and extra headers;
`token_request_headers`        `MarketAuth.rest_auth_headers` signs it
`describe_token_error`         the exchange's words from a refused token call's body
``SERVER_TIME_PATH``,          clock skew on the token call (KuCoin 400002 ``Invalid KC-API-TIMESTAMP``)
`is_clock_skew`,
`parse_server_time`
`subscribe_messages`,          as for every data source
`ping_message`, ...
=============================  ============================================================================
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar
from urllib.parse import urlencode

from userstream.credentials import ConnectionCredential
from userstream.data_source import UserStreamTrackerDataSource
from userstream.errors import AuthenticationError, RestError
from userstream.frames import ConnectionTarget, encode_message


@dataclass(frozen=True)
class TokenGrant:
    """What the exchange's token call granted. Its repr leaves the token out: it opens the account's stream."""

    token: str = field(repr=False)
    endpoint: str | None = None
    """The WebSocket URL to connect to, when the exchange assigns one (KuCoin's ``instanceServers[0].endpoint``)."""
    ping_interval: float | None = None
    """Seconds between pings, when the exchange dictates it (KuCoin's ``pingInterval``, given in ms)."""
    expires_in: float | None = None
    """Seconds the token stays usable before a connection uses it (Kraken's ``expires``: 900)."""


class RestTokenDataSource(UserStreamTrackerDataSource):
    """A user stream opened with a token minted by a signed REST call; see the module docstring for the hooks."""

    TOKEN_PATH: ClassVar[str] = ""
    """The token endpoint, e.g. KuCoin ``/api/v1/bullet-private``, Kraken ``/0/private/GetWebSocketsToken``."""
    TOKEN_METHOD: ClassVar[str] = "POST"
    TOKEN_QUERY_PARAM: ClassVar[str | None] = None
    """The query parameter that carries the token in the connection URL, or None if the URL carries none."""
    TOKEN_REJECTED_STATUSES: ClassVar[frozenset[int]] = frozenset({400, 401, 403})
    """HTTP statuses of the token call that mean the credentials were refused (others: the exchange is unwell)."""

    def configure(self) -> None:
        conceal = None if self.auth is None else self.auth.conceal
        self.grants = ConnectionCredential(self.fetch_token, secret=lambda grant: grant.token, conceal=conceal)

    # --- state ------------------------------------------------------------------------------------

    @property
    def token_grant(self) -> TokenGrant | None:
        """The grant the current (or last) connection was opened with; None before the first and after `stop()`."""
        return self.grants.current

    @property
    def token(self) -> str:
        """The current connection's token, for subscribe messages that carry it (Kraken)."""
        grant = self.grants.current
        if grant is None:
            raise RuntimeError(f"{type(self).__name__} has no token: connection_target() mints one per connection")
        return grant.token

    @property
    def tokens_minted(self) -> int:
        """How many token calls were made: one per connection, however many callers overlapped."""
        return self.grants.fetch_count

    # --- the block's mechanics --------------------------------------------------------------------

    async def connection_target(self) -> ConnectionTarget:
        # One token per connection, whatever ended the last one (expiry, revocation, a drop).
        grant = await self.grants.fresh()
        return ConnectionTarget(self.connection_url(grant), ping_interval=grant.ping_interval)

    async def fetch_token(self) -> TokenGrant:
        """Make the signed token call and return its grant. Only `grants` calls this, never two at once."""
        if not self.TOKEN_PATH:
            raise RuntimeError(f"{type(self).__name__} must set TOKEN_PATH to its exchange's token endpoint")
        try:
            reply = await self.rest_request(
                self.TOKEN_METHOD,
                self.TOKEN_PATH,
                body=self.token_request_body(),
                headers=self.token_request_headers(),
                signed=True,
            )
        except RestError as error:
            if error.status not in self.TOKEN_REJECTED_STATUSES:
                raise
            clock_skew = self.is_clock_skew(error.body) and self.SERVER_TIME_PATH is not None
            raise AuthenticationError(self.describe_token_error(error.body), clock_skew=clock_skew) from error
        grant = self.parse_token_reply(reply)
        self.logger.info(
            "token minted (#%d)%s",
            self.grants.fetch_count,
            "" if grant.expires_in is None else f", usable for {grant.expires_in:g} s",
        )
        return grant

    def connection_url(self, grant: TokenGrant) -> str:
        """The URL for one connection: the grant's endpoint (else ``ws_url``), with the token and `connection_query`."""
        base = grant.endpoint or self.ws_url
        query: dict[str, str] = {}
        if self.TOKEN_QUERY_PARAM is not None:
            query[self.TOKEN_QUERY_PARAM] = grant.token
        query.update(self.connection_query())
        if not query:
            return base
        return f"{base}{'&' if '?' in base else '?'}{urlencode(query)}"

    def discard_credentials(self) -> None:
        self.grants.discard()

    async def on_stop(self) -> None:
        await self.grants.close()

    # --- exchange specifics: override these --------------------------------------------------------

    def parse_token_reply(self, reply: Any) -> TokenGrant:
        """The grant in a successful token call's reply.

        Raise `AuthenticationError` with the exchange's words when the reply carries an error
        despite its HTTP status (Kraken answers ``{"error": ["EAPI:Invalid key"]}`` with 200).
        """
        raise NotImplementedError(f"{type(self).__name__} must override parse_token_reply()")

    def token_request_body(self) -> Any:
        """The token call's body, built fresh for each call (Kraken: ``nonce=...``); None for none (KuCoin)."""
        return None

    def token_request_headers(self) -> Mapping[str, str]:
        """Headers besides the signature's (Kraken: the form Content-Type)."""
        return {}

    def connection_query(self) -> Mapping[str, str]:
        """Query parameters besides the token, built fresh for each connection (KuCoin: ``connectId``)."""
        return {}

    def describe_token_error(self, body: Any) -> str:
        """The exchange's own words from a refused token call's body, for the log and `status.last_error`."""
        if isinstance(body, str):
            return self.quote(body, 300)
        return self.quote(encode_message(body), 300)
