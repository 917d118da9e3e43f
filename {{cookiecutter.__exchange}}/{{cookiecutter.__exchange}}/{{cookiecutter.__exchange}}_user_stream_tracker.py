{%- set package = cookiecutter.__exchange -%}
{%- set prefix = cookiecutter.__class_prefix -%}
"""Runs the user stream in the background: ``start()``, read ``user_stream``, ``stop()``."""

from __future__ import annotations

from typing import Any

from userstream import UserStreamTracker

{{ kit_from_import(package ~ "." ~ package ~ "_api_user_stream_data_source", prefix ~ "APIUserStreamDataSource") }}
{{ kit_from_import(package ~ "." ~ package ~ "_auth", prefix ~ "Auth") }}


class {{ prefix }}UserStreamTracker(UserStreamTracker):
    """The tracker for one account; keyword arguments go to the data source ({% if cookiecutter.__archetype == "rest_polling" %}``rest_url=``, ``poll_interval=``{% else %}``ws_url=``, ``timings=``, ...{% endif %})."""

    def __init__(
        self,
        auth: {{ prefix }}Auth,
        *,
        max_queue_size: int = 0,
        typed_events: bool = False,
        **data_source_options: Any,
    ) -> None:
        super().__init__(
            {{ prefix }}APIUserStreamDataSource(auth, **data_source_options),
            max_queue_size=max_queue_size,
            typed_events=typed_events,
        )
