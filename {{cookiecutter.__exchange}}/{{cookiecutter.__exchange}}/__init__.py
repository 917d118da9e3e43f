"""The exchange's private user stream (orders, fills, balances), built on userstream."""

from {{ cookiecutter.__exchange }}.{{ cookiecutter.__exchange }}_api_user_stream_data_source import {{ cookiecutter.__class_prefix }}APIUserStreamDataSource
from {{ cookiecutter.__exchange }}.{{ cookiecutter.__exchange }}_auth import {{ cookiecutter.__class_prefix }}Auth
from {{ cookiecutter.__exchange }}.{{ cookiecutter.__exchange }}_user_stream_tracker import {{ cookiecutter.__class_prefix }}UserStreamTracker

__all__ = ["{{ cookiecutter.__class_prefix }}APIUserStreamDataSource", "{{ cookiecutter.__class_prefix }}Auth", "{{ cookiecutter.__class_prefix }}UserStreamTracker"]
