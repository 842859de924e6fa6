"""Nodes of the `reporting` pipeline: pure functions, no I/O."""
