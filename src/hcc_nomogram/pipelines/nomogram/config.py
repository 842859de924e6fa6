"""Typed settings of the `nomogram` pipeline (``conf/base/parameters_nomogram.yml``, key
``nomogram``). Kedro validates ``params:nomogram`` against :class:`NomogramParams` before a run
because the node inputs are annotated with it; nodes also accept the plain dict (tests, other
runners) through :func:`hcc_nomogram.parameters.typed`."""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field, model_validator

from hcc_nomogram.parameters import StrictModel
from hcc_nomogram.stats.design import Term
from hcc_nomogram.stats.reclassification import check_risk_categories


class FactorSpec(StrictModel):
    """One candidate clinical factor (see :class:`hcc_nomogram.stats.design.Term`)."""

    name: str
    column: str | None = None
    kind: Literal["categorical", "continuous"] = "categorical"
    reference: str | int | float | None = None
    cutoff: float | None = Field(default=None, description="binary: value > cutoff")
    step: float = Field(default=1.0, gt=0, description="HR per `step` units (linear)")
    label: str | None = None

    def term(self) -> Term:
        return Term.from_dict(self.model_dump())


class SignatureSpec(StrictModel):
    column: str = "signature_score"
    name: str = "signature"
    label: str = "DL signature"
    step: float = Field(default=0.2, gt=0, description="HR per 0.2 of the rescaled score")
    always_candidate: bool = True  # enters the integrated stepwise scope whatever its P

    def term(self) -> Term:
        return Term(
            name=self.name, column=self.column, kind="continuous", step=self.step, label=self.label
        )


class StepwiseSpec(StrictModel):
    direction: Literal["both", "forward", "backward"] = "both"
    k: float = Field(default=2.0, gt=0, description="2 = AIC")


class CalibrationSpec(StrictModel):
    horizons_months: list[float] = [12.0, 24.0]
    n_groups: int = Field(default=3, ge=1)
    min_group: int = Field(default=5, ge=1)
    band_resamples: int = Field(
        default=200, ge=0, description="bootstrap resamples of the smooth curve's CI band"
    )
    band_seed: int = 20201116


class BootstrapSpec(StrictModel):
    n_resamples: int = Field(default=100, ge=0)
    seed: int = 20201116


class DecisionCurveSpec(StrictModel):
    """Threshold grid of the decision curves: ``threshold_min`` to ``threshold_max`` (included)
    by ``threshold_step``; thresholds are probabilities of death by the horizon."""

    threshold_min: float = Field(default=0.0, ge=0, lt=1)
    threshold_max: float = Field(default=0.95, gt=0, lt=1)
    threshold_step: float = Field(default=0.01, gt=0, lt=1)

    @model_validator(mode="after")
    def _ordered(self):
        if self.threshold_max <= self.threshold_min:
            raise ValueError("decision_curve.threshold_max must exceed threshold_min")
        return self

    def thresholds(self) -> np.ndarray:
        n = int(np.floor((self.threshold_max - self.threshold_min) / self.threshold_step + 1e-9))
        return np.round(self.threshold_min + self.threshold_step * np.arange(n + 1), 10)


class ReclassificationSpec(StrictModel):
    """NRI / IDI of integrated vs clinical: risk-category cut points (categorical NRI) and the
    bootstrap of the CIs."""

    risk_categories: list[float] = [0.2, 0.5]
    n_bootstrap: int = Field(default=200, ge=0)
    seed: int = 20201116
    alpha: float = Field(default=0.05, gt=0, lt=1)

    @model_validator(mode="after")
    def _cut_points(self):
        check_risk_categories(self.risk_categories)  # a ValueError: reported by pydantic
        return self


class Table1Spec(StrictModel):
    numeric: list[str] = []
    categorical: list[str] = []
    cutoffs: dict[str, float] = {}


class ModelSpec(StrictModel):
    """One namespace of the modular pipeline (``clinical`` or ``integrated``)."""

    name: str
    use_signature: bool = False


class NomogramParams(StrictModel):
    primary_outcome: str = "os"
    secondary_outcome: str | None = "pfs"
    time_unit: str = "months"
    univariate_p_threshold: float = Field(default=0.05, gt=0, le=1)
    stepwise: StepwiseSpec = StepwiseSpec()
    candidate_factors: list[FactorSpec]
    signature: SignatureSpec | None = SignatureSpec()
    horizons_months: list[float] = [12.0, 24.0, 36.0]
    calibration: CalibrationSpec = CalibrationSpec()
    bootstrap: BootstrapSpec = BootstrapSpec()
    ph_transform: Literal["km", "rank", "identity", "log"] = "km"
    points_step: float = Field(default=10.0, gt=0)
    min_events: int = Field(default=10, ge=2)
    table1: Table1Spec = Table1Spec()
    models: dict[str, ModelSpec] = {}
    decision_curve: DecisionCurveSpec = DecisionCurveSpec()
    reclassification: ReclassificationSpec = ReclassificationSpec()

    def terms(self) -> list[Term]:
        return [f.term() for f in self.candidate_factors]
