"""Nodes of the `deep_features` pipeline: pure functions, no I/O."""
