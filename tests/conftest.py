"""Fixtures for the kit's tests; they live in `baking.py` beside the helpers they use."""

import os

# The generated projects' tests, which the kit's tests run in subprocesses (the hook's run, `userstream check`),
# use neither of the kit's own test plugins; loading them costs about a second a run. This process has already
# read PYTEST_ADDOPTS, so only those children see it.
os.environ.setdefault("PYTEST_ADDOPTS", "-p no:hypothesispytest -p no:cookies")

from baking import bake, strict, the_users_replay_is_left_alone

__all__ = ["bake", "strict", "the_users_replay_is_left_alone"]
