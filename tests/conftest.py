"""Fixtures for the kit's tests; they live in `baking.py` beside the helpers they use."""

from baking import bake, strict

__all__ = ["bake", "strict"]
