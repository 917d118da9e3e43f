{%- set package = cookiecutter.__exchange -%}
{%- set prefix = cookiecutter.__class_prefix -%}
"""The exchange's private user stream (orders, fills, balances), built on userstream."""

{{ kit_from_import(package ~ "." ~ package ~ "_api_user_stream_data_source", prefix ~ "APIUserStreamDataSource") }}
{{ kit_from_import(package ~ "." ~ package ~ "_auth", prefix ~ "Auth") }}
{{ kit_from_import(package ~ "." ~ package ~ "_user_stream_tracker", prefix ~ "UserStreamTracker") }}

__all__ = [
    "{{ prefix }}APIUserStreamDataSource",
    "{{ prefix }}Auth",
    "{{ prefix }}UserStreamTracker",
]
