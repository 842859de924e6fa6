"""Nodes of the `nomogram` pipeline: pure functions, no I/O."""
