"""How exchanges authenticate private streams, one reusable building block each.

A connector subclasses the block its exchange uses and fills in constants and message shapes.
"""
