"""Nodes of the `predict` pipeline: pure functions, no I/O."""
