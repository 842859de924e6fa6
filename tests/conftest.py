"""Shared pytest fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def tiny_demo_cohort(tmp_path_factory) -> Path:
    """Folder with a tiny synthetic cohort (~20 patients, both cohorts, >= 10 deaths):
    ``manifest.csv``, ``clinical.csv``, ``images/<id>/*.nii.gz``, ``ground_truth/``.
    Built once per session in a few seconds (``hcc_nomogram.demo.write_tiny_demo_cohort``)."""
    from hcc_nomogram.demo import write_tiny_demo_cohort

    return write_tiny_demo_cohort(tmp_path_factory.mktemp("tiny_demo_cohort"))
