"""Fixtures for the kit's tests; they live in `baking.py` beside the helpers they use."""

from baking import bake, strict, the_users_replay_is_left_alone

__all__ = ["bake", "strict", "the_users_replay_is_left_alone"]
