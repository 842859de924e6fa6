"""Helpers to run a throw-away copy of this Kedro project in tests (``pythonpath = tests``)."""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]

#: Parameter overrides that keep the end-to-end run small and fast on 2 CPU cores.
#: They only shrink grids and resample counts; the methods are the production ones.
FAST_PARAMETERS = """
compute:
  mode: synchronous        # a LocalCluster costs seconds per node; tests/test_compute.py
                           # shows the Dask engines give identical outputs
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
    for layer in (
        "01_raw",
        "02_intermediate",
        "03_primary",
        "04_feature",
        "05_model_input",
        "06_models",
        "07_model_output",
        "08_reporting",
    ):
        (root / "data" / layer).mkdir(parents=True, exist_ok=True)
    (root / "conf" / "local" / "catalog.yml").write_text(
        f"""
cohort_manifest:
  type: hcc_nomogram.datasets.CohortManifestDataset
  filepath: {cohort / "manifest.csv"}
clinical_table:
  type: pandas.CSVDataset
  filepath: {cohort / "clinical.csv"}
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


def point_at_dicom_export(
    root: Path, export: Path, patient_map: Path, clinical: Path | None = None
) -> None:
    """Local catalog of a project copy that ingests ``export``: ``dicom_export`` reads it and
    ``cohort_manifest`` is the ingested manifest (docs/ingest.md); ``clinical`` keeps the
    clinical table for a run beyond ingest."""
    text = f"""
dicom_export:
  type: hcc_nomogram.datasets.DicomExportDataset
  path: {export}
  cache_path: data/02_intermediate/ingest/file_index.parquet
  patient_map: {patient_map}
cohort_manifest:
  type: hcc_nomogram.datasets.CohortManifestDataset
  filepath: data/02_intermediate/ingest/manifest.csv
"""
    if clinical is not None:
        text += f"""clinical_table:
  type: pandas.CSVDataset
  filepath: {clinical}
  load_args: {{dtype: {{patient_id: str}}}}
"""
    (root / "conf" / "local" / "catalog.yml").write_text(text, encoding="utf-8")
