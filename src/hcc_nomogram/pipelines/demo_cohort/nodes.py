"""Nodes of the `demo_cohort` pipeline: pure functions, no I/O."""
