"""Typed ``reporting`` parameters (conf/base/parameters_reporting.yml), validated once."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

#: Column roles of the signature pipeline's tables (docs/signature.md) -> column names.
SIGNATURE_COLUMNS = {
    "feature": "feature", "phase": "phase", "weight": "weight", "scale": "train_sd",
    "cv_x": "alpha", "cv_mean": "mean_c", "cv_sd": "sd_c", "cv_selected": "selected",
    "metric_cohort": "cohort", "c_index": "c_index", "ci_lower": "ci_lower", "ci_upper": "ci_upper",
}


@dataclass(frozen=True)
class ReportSettings:
    title: str = "HCC overall survival: deep learning signature and nomograms"
    at_risk_every_months: float = 12.0
    survival_times_months: tuple[float, ...] = (12.0, 24.0, 36.0)
    n_example_patients: int = 3
    image_stride: int = 2
    static_engine: str = "auto"  # auto | kaleido | matplotlib
    static_width: int = 1000
    signature_columns: Mapping[str, str] = field(default_factory=lambda: dict(SIGNATURE_COLUMNS))

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> ReportSettings:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(params) - known)
        if unknown:
            raise ValueError(f"unknown reporting parameter(s) {unknown}; known: {sorted(known)}.")
        values = {k: tuple(v) if isinstance(v, list) else v for k, v in params.items()}
        if "signature_columns" in values:  # partial overrides keep the other defaults
            values["signature_columns"] = {**SIGNATURE_COLUMNS, **dict(values["signature_columns"])}
        out = cls(**values)
        if out.static_engine not in {"auto", "kaleido", "matplotlib"}:
            raise ValueError("reporting.static_engine must be auto, kaleido or matplotlib.")
        if out.image_stride < 1 or out.n_example_patients < 1:
            raise ValueError("reporting.image_stride and n_example_patients must be >= 1.")
        return out
