"""The one REST client: signing, clock-skew retry, rate limits with ``Retry-After``, timeouts, redacted errors.

Account snapshots, order lookups, tokens, listen keys and REST polling all send through a `RestClient`. What
differs between them is passed in: how a request is signed (`Signer`) and what counts as an error in a reply
(`ReplyCheck`; HTX answers errors with HTTP 200).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote, urlencode

import aiohttp
from yarl import URL

from userstream.errors import ConnectionLost, RestError
from userstream.frames import decode_reply

REST_FAILURES = (RestError, ConnectionLost, aiohttp.ClientError, OSError, TimeoutError)
"""What a REST call can fail with: an error reply, or no reply (refused, reset, timed out)."""

MAX_RETRY_AFTER = 300.0
"""Seconds: a longer ``Retry-After`` is capped, so a buggy header cannot silence a stream or hold a gap open
for hours. The reconciler and the poller both wait out a rate limit up to this."""

Signer = Callable[[str, str, Mapping[str, str], str], tuple[str, Mapping[str, str]]]
"""``(method, path, params, body)`` to ``(query string exactly as sent, headers)``, signed now."""


@dataclass(frozen=True)
class RestReply:
    status: int
    headers: Mapping[str, str]
    body: Any
    """The decoded JSON, or the text when it is not JSON (an HTML error page)."""


ReplyCheck = Callable[[str, str, RestReply], Exception | None]
"""``(method, path, reply)`` to the error it means, or None for a success."""


class ExchangeError(RestError):
    """The exchange answered with an error (an error status, or an error in a 200 body), in its own words."""

    def __init__(self, method: str, path: str, status: int, body: object, reason: str) -> None:
        super().__init__(method, path, status, body)
        self.reason = reason
        self.args = (f"{method} {path} failed (HTTP {status}): {reason}",)


class RateLimited(ExchangeError):
    """HTTP 429 (or the exchange's equivalent): the next request waits at least ``retry_after`` seconds."""

    def __init__(
        self, method: str, path: str, status: int, body: object, reason: str, retry_after: float | None
    ) -> None:
        super().__init__(method, path, status, body, reason)
        self.retry_after = retry_after
        wait = "no Retry-After" if retry_after is None else f"Retry-After {retry_after:g} s"
        self.args = (f"{method} {path} rate limited (HTTP {status}, {wait}): {reason}",)


class MalformedReply(ExchangeError):
    """A reply the connector's parser could not read."""


class RestClient:
    """Sends requests to one base URL through a session it is given; see the module docstring."""

    def __init__(
        self,
        base_url: str,
        *,
        session: Callable[[], Awaitable[aiohttp.ClientSession]],
        timeout: float,
        redact: Callable[[str], str],
        is_clock_skew: Callable[[Any], bool] = lambda body: False,
        sync_clock: Callable[[], Awaitable[object]] | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._session = session
        self._redact = redact
        self._is_clock_skew = is_clock_skew
        self._sync_clock = sync_clock

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        body: str = "",
        headers: Mapping[str, str] | None = None,
        sign: Signer | None = None,
        check: ReplyCheck | None = None,
    ) -> Any:
        """The decoded reply of a successful request. Signed by ``sign`` afresh for each attempt; an error reply
        raises what ``check`` makes of it (default: `RateLimited` for 429, `RestError` for any other error status).
        One that blames our clock re-measures it and is sent once more."""
        for attempt in (1, 2):
            signed_headers: Mapping[str, str] = {}
            if sign is None:
                query = encode_query(params or {})
            else:
                query, signed_headers = sign(method, path, params or {}, body)
            reply = await self.send(method, path, query=query, body=body, headers={**(headers or {}), **signed_headers})
            error = (check or self.check)(method, path, reply)
            if error is None:
                return reply.body
            retry = attempt == 1 and self._sync_clock is not None and not isinstance(error, RateLimited)
            if retry and self._is_clock_skew(reply.body):
                assert self._sync_clock is not None
                await self._sync_clock()
                continue
            raise error
        raise AssertionError("unreachable: the second attempt returns or raises")

    def check(self, method: str, path: str, reply: RestReply) -> Exception | None:
        """The default: 429 is `RateLimited` (honouring ``Retry-After``), any other status from 400 a `RestError`."""
        if reply.status == 429:
            retry_after = parse_retry_after(reply.headers.get("Retry-After"))
            return RateLimited(method, path, 429, reply.body, self._redact(repr(reply.body))[:300], retry_after)
        if reply.status >= 400:
            return RestError(method, path, reply.status, reply.body, redact=self._redact)
        return None

    async def send(
        self, method: str, path: str, *, query: str = "", body: str = "", headers: Mapping[str, str] | None = None
    ) -> RestReply:
        """One request, exactly as given (``query`` is sent byte for byte: it is what was signed)."""
        url = URL(self.base_url + path + (f"?{query}" if query else ""), encoded=True)
        session = await self._session()
        try:
            async with session.request(
                method,
                url,
                data=body or None,
                headers=dict(headers or {}),
                timeout=aiohttp.ClientTimeout(total=self.timeout),
            ) as response:
                text = await response.text()
                status, reply_headers = response.status, dict(response.headers)
        except TimeoutError:
            raise ConnectionLost(f"{method} {path}: no reply within {self.timeout:g} s") from None
        except aiohttp.ClientError as error:
            raise ConnectionLost(self._redact(f"{method} {path} failed: {error}")) from error
        return RestReply(status, reply_headers, decode_reply(text))


def encode_query(params: Mapping[str, str] | Sequence[tuple[str, str]]) -> str:
    """``k=v&...`` with every reserved character percent-encoded (``:`` as ``%3A``, space as ``%20``)."""
    items = list(params.items()) if isinstance(params, Mapping) else list(params)
    return urlencode(items, quote_via=quote)


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or an HTTP date); None if absent or unreadable."""
    if value is None:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, moment.timestamp() - (time.time() if now is None else now))
