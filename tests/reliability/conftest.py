"""Fixtures of the reliability suite (issue 12): real Kedro runs on small bad cohorts.

Every cohort here is a copy of the first few patients of ``tiny_demo_cohort`` (small volumes),
so that a preprocessing session takes seconds; a test then breaks one file or value.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from project_helpers import make_project

from reliability.cohorts import copy_cohort


@pytest.fixture
def cohort(tiny_demo_cohort, tmp_path) -> Path:
    """A private 5-patient cohort the test may break."""
    return copy_cohort(tiny_demo_cohort, tmp_path / "cohort")


@pytest.fixture
def project(cohort, tmp_path) -> Path:
    """A project copy reading :func:`cohort`."""
    return make_project(tmp_path / "project", cohort)
