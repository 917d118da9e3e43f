"""The kit's cookiecutter hooks, importable so that their functions are unit-tested like any other code."""
