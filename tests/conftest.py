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


# --------------------------------------------------------------------------------------
# A whole project, trained end to end on a small demo cohort (once per test session).
# --------------------------------------------------------------------------------------

REPO_ROOT = Path(__file__).resolve().parents[1]

#: Parameter overrides that keep the end-to-end run small and fast on 2 CPU cores.
#: They only shrink grids and resample counts; the methods are the production ones.
FAST_PARAMETERS = """
deep_features:
  weights: random          # never the network in tests
  batch_size: 32
signature:
  mrmr:
    n_ranked: 20
    pool_size: 60
  cv:
    k_grid: [5, 10]
    l1_ratio_grid: [0.5, 1.0]
    n_alphas: 15
nomogram:
  univariate_p_threshold: 0.3   # 40 training patients: screening at 0.05 may keep nothing
  bootstrap:
    n_resamples: 5
  min_events: 8
  calibration:
    min_group: 3
"""


def make_project(root: Path, cohort: Path, extra_parameters: str = "") -> Path:
    """Lay out a runnable copy of this Kedro project in ``root`` reading ``cohort``."""
    import shutil

    root.mkdir(parents=True, exist_ok=True)
    for name in ("pyproject.toml", ".telemetry"):
        shutil.copy(REPO_ROOT / name, root / name)
    shutil.copytree(REPO_ROOT / "conf" / "base", root / "conf" / "base")
    if (REPO_ROOT / "conf" / "logging.yml").exists():
        shutil.copy(REPO_ROOT / "conf" / "logging.yml", root / "conf" / "logging.yml")
    (root / "conf" / "local").mkdir(parents=True, exist_ok=True)
    for layer in ("01_raw", "02_intermediate", "03_primary", "04_feature", "05_model_input",
                  "06_models", "07_model_output", "08_reporting"):
        (root / "data" / layer).mkdir(parents=True, exist_ok=True)
    (root / "conf" / "local" / "catalog.yml").write_text(
        f"""
cohort_manifest:
  type: hcc_nomogram.datasets.CohortManifestDataset
  filepath: {cohort / 'manifest.csv'}
clinical_table:
  type: pandas.CSVDataset
  filepath: {cohort / 'clinical.csv'}
  load_args: {{dtype: {{patient_id: str}}}}
"""
    )
    (root / "conf" / "local" / "parameters.yml").write_text(FAST_PARAMETERS + extra_parameters)
    return root


def run_project(root: Path, pipeline_names: list[str] | None = None, **run_kwargs):
    """Run pipelines of the project at ``root`` in a Kedro session (cwd = project root)."""
    import os

    from kedro.framework.project import configure_project
    from kedro.framework.session import KedroSession

    os.environ.setdefault("KEDRO_DISABLE_TELEMETRY", "true")
    configure_project("hcc_nomogram")
    previous = Path.cwd()
    os.chdir(root)
    try:
        with KedroSession.create(project_path=root, env="local") as session:
            return session.run(pipeline_names=pipeline_names, **run_kwargs)
    finally:
        os.chdir(previous)


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


def load_dataset(root: Path, name: str, version: str | None = None):
    """Load one catalog dataset of the project at ``root`` (latest version by default)."""
    import os

    from kedro.framework.project import configure_project
    from kedro.framework.session import KedroSession

    configure_project("hcc_nomogram")
    previous = Path.cwd()
    os.chdir(root)
    try:
        with KedroSession.create(project_path=root, env="local") as session:
            catalog = session.load_context().catalog
            return catalog.load(name, version=version) if version else catalog.load(name)
    finally:
        os.chdir(previous)


@pytest.fixture(scope="session")
def project_loader(trained_project):
    """``load(name)`` for datasets of :func:`trained_project`."""
    return lambda name, version=None: load_dataset(trained_project, name, version)
