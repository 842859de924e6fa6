"""Shared pytest fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest
from project_helpers import load_dataset, make_project, run_project


@pytest.fixture(scope="session")
def tiny_demo_cohort(tmp_path_factory) -> Path:
    """Folder with a tiny synthetic cohort (~20 patients, both cohorts, >= 10 deaths):
    ``manifest.csv``, ``clinical.csv``, ``images/<id>/*.nii.gz``, ``ground_truth/``.
    Built once per session in a few seconds (``hcc_nomogram.demo.write_tiny_demo_cohort``)."""
    from hcc_nomogram.demo import write_tiny_demo_cohort

    return write_tiny_demo_cohort(tmp_path_factory.mktemp("tiny_demo_cohort"))


# --------------------------------------------------------------------------------------
# A whole project, trained end to end on a small demo cohort (once per test session).
# --------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def small_demo_cohort(tmp_path_factory) -> Path:
    """A 60-patient demo cohort (40 training, 20 validation) with small volumes."""
    from hcc_nomogram.demo import write_demo_cohort
    from hcc_nomogram.demo.config import tiny_config

    folder = tmp_path_factory.mktemp("small_demo_cohort")
    return write_demo_cohort(folder, tiny_config(seed=11, n_training=40, n_validation=20))


@pytest.fixture(scope="session")
def trained_project(small_demo_cohort, tmp_path_factory) -> Path:
    """A project copy in which the default pipeline (preprocessing -> reporting) has run once
    on ``small_demo_cohort``. Tests may read its outputs; they must not modify them."""
    root = make_project(tmp_path_factory.mktemp("trained_project"), small_demo_cohort)
    run_project(root)
    return root


@pytest.fixture(scope="session")
def project_loader(trained_project):
    """``load(name)`` for datasets of :func:`trained_project`."""
    return lambda name, version=None: load_dataset(trained_project, name, version)
