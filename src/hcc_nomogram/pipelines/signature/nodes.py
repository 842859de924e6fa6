"""Nodes of the `signature` pipeline: pure functions, no I/O."""
