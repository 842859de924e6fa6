"""Clear errors for report sections whose inputs are missing or malformed.

Every message names the dataset, what is wrong and the pipeline to run first, e.g.
"run `kedro run --pipelines=signature` first".
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from hcc_nomogram import errors
from hcc_nomogram.errors import InputDataError
from hcc_nomogram.parameters import CT_PHASES, NOMOGRAM_MODELS

#: Which pipeline writes each upstream dataset the report reads (architecture.md).
PRODUCED_BY: dict[str, str] = {
    "clinical_table": "demo_cohort",
    "cohort_manifest": "demo_cohort",
    "preprocessed_crops": "preprocessing",
    "preprocessing_qc": "preprocessing",
    **{f"{phase}.icc_table": "deep_features" for phase in CT_PHASES},
    "model_input_features": "deep_features",
    "densenet_weights_provenance": "deep_features",
    "signature_cv_results": "signature",
    "signature_weights": "signature",
    "signature_scores": "signature",
    "signature_metrics": "signature",
    "analysis_table": "signature",
}


class ReportInputError(InputDataError):
    """A report section cannot be drawn because an upstream output is missing or malformed."""


def run_first(dataset: str, pipeline: str | None = None) -> str:
    pipeline = pipeline or PRODUCED_BY.get(dataset) or _guess_pipeline(dataset)
    return f"run `kedro run --pipelines={pipeline}` first (it writes `{dataset}`)."


def _guess_pipeline(dataset: str) -> str:
    if dataset.startswith(tuple(f"{m}." for m in NOMOGRAM_MODELS)) or "nomogram" in dataset:
        return "nomogram"
    return "the pipeline that writes it"


def require_input(data, dataset: str, section: str, pipeline: str | None = None):
    """Raise :class:`ReportInputError` when ``data`` is None or empty; return it otherwise."""
    empty = data is None or (hasattr(data, "__len__") and len(data) == 0)
    if empty:
        raise ReportInputError(
            f"The report section '{section}' needs `{dataset}`, which is missing or empty.",
            fix=run_first(dataset, pipeline),
        )
    return data


def require_columns(
    frame: pd.DataFrame,
    columns: Iterable[str],
    dataset: str,
    section: str,
    pipeline: str | None = None,
) -> pd.DataFrame:
    """Check that ``frame`` (dataset ``dataset``) is present and has ``columns``."""
    require_input(frame, dataset, section, pipeline)
    errors.require_columns(
        frame,
        columns,
        name=f"`{dataset}` (report section '{section}')",
        fix=f"re-{run_first(dataset, pipeline)}",
        error=ReportInputError,
    )
    return frame
