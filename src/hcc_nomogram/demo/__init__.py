"""Deterministic synthetic multi-center demo cohort (images, masks, clinical, outcomes)."""

