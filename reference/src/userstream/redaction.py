"""One redaction point for every text a user stream writes: log lines, `status` errors, exception messages.

What must never be written: the secret and passphrase, and every value derived from them or handed out
for the account (signatures, JWTs, tokens, listen keys; `MarketAuth.redact` knows them all), plus the
path and query of any URL, where tokens and listen keys travel. A data source passes all of its text
through `UserStreamTrackerDataSource.redact`, and its logger (`RedactingLogger`) does so for every line,
tracebacks included, so a connector's own log calls are covered too.
"""

from __future__ import annotations

import logging
import re
import sys
import traceback
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

_URL = re.compile(r"\b(?:wss?|https?)://[^\s'\"<>]+")


def origin(url: str) -> str:
    """scheme://host:port of a URL: its path and query may carry a listen key or token, its user info a password."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = None
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"  # an IPv6 literal
    return f"{parts.scheme}://{host}" + ("" if port is None else f":{port}")


def without_urls(text: str) -> str:
    """``text`` with every URL cut to its origin."""
    return _URL.sub(lambda url: origin(url.group(0)), text)


class RedactingLogger(logging.LoggerAdapter[logging.Logger]):
    """A logger whose every line, arguments and traceback included, passes through ``redact`` before it is written."""

    def __init__(self, logger: logging.Logger, redact: Callable[[str], str]) -> None:
        super().__init__(logger, {})
        self._redact = redact

    def log(  # type: ignore[override]
        self,
        level: int,
        msg: object,
        *args: object,
        exc_info: Any = None,
        stack_info: bool = False,
        stacklevel: int = 1,
        extra: Mapping[str, object] | None = None,
    ) -> None:
        if not self.isEnabledFor(level):
            return
        text = str(msg) % args if args else str(msg)
        if exc_info:
            # Formatted here, into the redacted text: a handler would format the traceback raw.
            error = (
                exc_info
                if isinstance(exc_info, BaseException)
                else (exc_info[1] if isinstance(exc_info, tuple) else sys.exc_info()[1])
            )
            if error is not None:
                text += "\n" + "".join(traceback.format_exception(error)).rstrip()
        self.logger.log(level, "%s", self._redact(text), stack_info=stack_info, stacklevel=stacklevel + 1, extra=extra)
