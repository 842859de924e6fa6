"""Typed parameters of the `signature` pipeline (``conf/base/parameters_signature.yml``, key
``signature``). Kedro validates ``params:signature`` against :class:`SignatureParams` before a
run starts; unknown keys are errors (a typo must not silently fall back to a default)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from hcc_nomogram.parameters import StrictModel


class MrmrParams(StrictModel):
    method: Literal["MID", "MIQ"] = "MID"
    n_ranked: int = Field(50, ge=1, description="length of the mRMR ranking")
    pool_size: int | None = Field(
        200, ge=1, description="candidates = the most relevant features (None: all)"
    )
    discretisation_sd: float = Field(
        0.5, gt=0, description="states -1/0/+1 cut at training mean -/+ this many SD"
    )
    horizon_months: float | None = Field(
        None, gt=0, description="class horizon H; None = training Kaplan-Meier median"
    )


class CvParams(StrictModel):
    n_folds: int = Field(5, ge=2)
    k_grid: list[int] = Field(default_factory=lambda: [5, 10, 20, 30], min_length=1)
    l1_ratio_grid: list[float] = Field(default_factory=lambda: [0.1, 0.5, 0.9, 1.0], min_length=1)
    n_alphas: int = Field(50, ge=2)
    alpha_min_ratio: float = Field(0.01, gt=0, lt=1)
    selection: Literal["max", "one_se"] = "max"


class SignatureParams(StrictModel):
    outcome: str = Field("os", description="key of data_contract.outcomes")
    random_seed: int = 2020
    constant_features: Literal["drop", "error"] = "drop"
    ci_alpha: float = Field(0.05, gt=0, lt=1)
    mrmr: MrmrParams = Field(default_factory=MrmrParams)
    cv: CvParams = Field(default_factory=CvParams)
