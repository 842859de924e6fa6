"""Nodes of the `preprocessing` pipeline: pure functions, no I/O."""
