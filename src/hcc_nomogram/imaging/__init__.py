"""Image handling: validation, registration, representative slice, crops."""

