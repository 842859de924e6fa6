"""Typed ``reporting`` parameters (conf/base/parameters_reporting.yml), validated once per run
(:func:`hcc_nomogram.parameters.check_parameters`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import Field, field_validator

from hcc_nomogram.parameters import StrictModel

#: Column roles of the signature pipeline's tables (docs/signature.md) -> column names.
SIGNATURE_COLUMNS = {
    "feature": "feature",
    "phase": "phase",
    "weight": "weight",
    "scale": "train_sd",
    "cv_x": "alpha",
    "cv_mean": "mean_c",
    "cv_sd": "sd_c",
    "cv_selected": "selected",
    "metric_cohort": "cohort",
    "c_index": "c_index",
    "ci_lower": "ci_lower",
    "ci_upper": "ci_upper",
}


class ReportSettings(StrictModel):
    """``reporting`` (``conf/base/parameters_reporting.yml``); unknown keys are errors."""

    title: str = "HCC overall survival: deep learning signature and nomograms"
    at_risk_every_months: float = 12.0
    survival_times_months: tuple[float, ...] = (12.0, 24.0, 36.0)
    n_example_patients: int = Field(3, ge=1)
    image_stride: int = Field(2, ge=1)
    #: PNG copies of the figures (kaleido + Chrome/Chromium): ``auto`` skips them with a warning
    #: when no browser exists, ``always`` makes that an error, ``never`` skips them.
    static_images: Literal["auto", "always", "never"] = "auto"
    static_width: int = 1000
    signature_columns: dict[str, str] = Field(default_factory=lambda: dict(SIGNATURE_COLUMNS))

    @field_validator("signature_columns", mode="before")
    @classmethod
    def _keep_other_defaults(cls, value: Any) -> Any:
        """A partial override keeps the other columns' defaults."""
        return {**SIGNATURE_COLUMNS, **dict(value)} if isinstance(value, Mapping) else value
