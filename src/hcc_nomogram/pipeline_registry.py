"""Project pipelines.

``__default__`` is the analysis on an existing cohort: preprocessing -> deep_features ->
signature -> nomogram -> reporting. ``demo_cohort`` (writes the synthetic cohort to
``data/01_raw/demo``) and ``predict`` (applies frozen models to new patients) are run
explicitly, e.g. ``kedro run --pipelines=demo_cohort``; so is ``ingest`` (a DICOM export ->
``data/02_intermediate/ingest/manifest.csv``, see docs/ingest.md).
"""

from __future__ import annotations

from kedro.framework.project import find_pipelines
from kedro.pipeline import Pipeline

from hcc_nomogram.pipelines.predict.pipeline import create_training_record_pipeline

NOT_IN_DEFAULT = ("demo_cohort", "ingest", "predict")


def register_pipelines() -> dict[str, Pipeline]:
    return compose_pipelines(find_pipelines(raise_errors=True))


def compose_pipelines(pipelines: dict[str, Pipeline]) -> dict[str, Pipeline]:
    """Add ``__default__`` and the training record to the pipelines found in the package
    (shared by :func:`register_pipelines` and the upstream-check hook)."""
    pipelines = dict(pipelines)
    pipelines["__default__"] = sum(
        (p for name, p in pipelines.items() if name not in NOT_IN_DEFAULT), Pipeline([])
    )
    if "deep_features" in pipelines:
        # Record the feature-extraction settings the models are trained with, so that
        # `predict` can refuse models trained under different settings.
        record = create_training_record_pipeline()
        pipelines["deep_features"] += record
        pipelines["__default__"] += record
    return pipelines
