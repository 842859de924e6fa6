"""Nodes of the `signature` pipeline: pure functions, no I/O.

Leakage rule: :func:`prepare_training_set` is the only node that sees both cohorts' outcomes,
and it keeps the training cohort only; every fitted artefact (mRMR ranking, CV results, model,
weights) is computed from its output. The validation cohort is only scored
(:func:`score_signature`) and evaluated (:func:`evaluate_signature`).
"""

from __future__ import annotations

import logging
import re
from typing import Any

import numpy as np
import pandas as pd

from hcc_nomogram.datasets.tables import (
    check_cohort_values,
    check_outcomes,
    check_patient_ids,
    cohort_rows,
    outcome_columns,
)
from hcc_nomogram.errors import InputDataError, SurvivalDataError, require_columns
from hcc_nomogram.parameters import DataContract, typed
from hcc_nomogram.pipelines.signature.params import SignatureParams
from hcc_nomogram.stats.concordance import harrell_c_index
from hcc_nomogram.stats.coxnet import (
    SignatureModel,
    cross_validate_coxnet,
    fit_signature_model,
    select_configuration,
)
from hcc_nomogram.stats.mrmr import (
    discretise,
    fit_discretiser,
    km_median,
    mrmr_rank,
    survival_class,
)

logger = logging.getLogger(__name__)

FEATURE_PATTERN = re.compile(r"^[A-Za-z0-9]+_f\d+$")


def feature_columns(table: pd.DataFrame) -> list[str]:
    """Deep-feature columns of a table: names ``<phase>_f<NNNN>``."""
    return [c for c in table.columns if FEATURE_PATTERN.match(str(c))]


def _str_ids(table: pd.DataFrame, id_col: str) -> pd.DataFrame:
    """``table`` with its patient ids as strings (ids must compare equal across tables)."""
    return table.assign(**{id_col: table[id_col].astype(str)})


def _ranked(mrmr_ranking: pd.DataFrame) -> list[str]:
    return mrmr_ranking.sort_values("rank")["feature"].tolist()


_COLUMN_FIX = "map your column names in conf/base/parameters.yml (data_contract)."


def _check_same_patients(features: pd.DataFrame, clinical: pd.DataFrame, id_col: str) -> None:
    for table, name in ((features, "model_input_features"), (clinical, "clinical_table")):
        dup = table[id_col][table[id_col].duplicated()]
        if len(dup):
            raise InputDataError(
                f"{name} has {len(dup)} duplicated patient id(s).", patient=list(dup[:5])
            )
    f_ids, c_ids = set(features[id_col]), set(clinical[id_col])
    only_f, only_c = sorted(f_ids - c_ids), sorted(c_ids - f_ids)
    if only_f or only_c:
        raise InputDataError(
            f"the feature and clinical tables hold different patients: {len(only_f)} only in "
            f"model_input_features (e.g. {only_f[:5]}), {len(only_c)} only in clinical_table "
            f"(e.g. {only_c[:5]}).",
            column=id_col,
            fix="extract features for exactly the patients of the clinical table (same ids).",
        )


def prepare_training_set(
    model_input_features: pd.DataFrame,
    clinical_table: pd.DataFrame,
    data_contract: dict[str, Any],
    params: SignatureParams,
) -> pd.DataFrame:
    """Check both tables and return the TRAINING cohort only: id, time, event and the
    (non-constant) deep features, indexed by patient id."""
    dc = typed(DataContract, data_contract)
    params = typed(SignatureParams, params)
    id_col, cohort_col = dc.id_column, dc.cohort_column
    time_col, event_col = outcome_columns(dc, params.outcome, "signature.outcome")
    require_columns(
        model_input_features, [id_col, cohort_col], name="model_input_features", fix=_COLUMN_FIX
    )
    require_columns(
        clinical_table,
        [id_col, cohort_col, time_col, event_col],
        name="clinical_table",
        fix=_COLUMN_FIX,
    )
    check_patient_ids(clinical_table, id_col, source="clinical_table")
    cohorts = [dc.training_value, dc.validation_value]
    check_cohort_values(clinical_table, cohort_col, cohorts, id_col, source="clinical_table")
    features = _str_ids(model_input_features, id_col)
    clinical = check_outcomes(
        _str_ids(clinical_table, id_col), time_col, event_col, id_col, source="clinical_table"
    )
    feats = feature_columns(features)
    if not feats:
        raise InputDataError(
            "model_input_features has no deep-feature column (named <phase>_f<NNNN>): the "
            "feature table is empty.",
            fix="check the deep_features pipeline; the ICC reproducibility filter may have "
            "removed every feature (lower deep_features' ICC threshold).",
        )
    _check_same_patients(features, clinical, id_col)
    merged = clinical[[id_col, cohort_col, time_col, event_col]].merge(
        features[[id_col, cohort_col, *feats]], on=id_col, suffixes=("", "_features")
    )
    differ = merged[merged[cohort_col] != merged[f"{cohort_col}_features"]]
    if len(differ):
        raise InputDataError(
            f"{len(differ)} patient(s) are in different cohorts in the two tables.",
            patient=list(differ[id_col][:5]),
            column=cohort_col,
        )
    train = cohort_rows(merged, dc)
    if train.empty:
        raise InputDataError(
            f"no patient has {cohort_col} == {dc.training_value!r}.",
            column=cohort_col,
            fix="set data_contract.training_value to the label of your training cohort.",
        )
    train = train.set_index(id_col)[[time_col, event_col, *feats]]
    bad = train.index[train[[time_col, event_col]].isna().any(axis=1)]
    if len(bad):
        raise SurvivalDataError(
            f"{len(bad)} training patient(s) have a missing outcome "
            f"({time_col}/{event_col}), e.g. {list(bad[:5])}."
        )
    x = train[feats].to_numpy(dtype=np.float64)
    bad = train.index[~np.all(np.isfinite(x), axis=1)]
    if len(bad):
        raise InputDataError(
            f"{len(bad)} training patient(s) have missing or infinite deep features.",
            patient=list(bad[:5]),
        )
    n_events = int(train[event_col].sum())
    if n_events < params.cv.n_folds:
        raise SurvivalDataError(
            f"too few events for {params.cv.n_folds}-fold cross-validation: {n_events} "
            f"event(s) among {len(train)} training patients. Potential fix: lower "
            "signature.cv.n_folds or use a larger training cohort."
        )
    constant = [f for f, sd in zip(feats, x.std(axis=0)) if not sd > 0]
    if constant:
        if params.constant_features == "error" or len(constant) == len(feats):
            raise InputDataError(
                f"{len(constant)} of {len(feats)} deep feature(s) are constant in the "
                f"training cohort, e.g. {constant[:5]}.",
                column=constant[0],
                fix="remove constant features upstream, or set "
                "signature.constant_features: drop (if at least one feature varies).",
            )
        logger.warning("dropping %d constant feature(s), e.g. %s", len(constant), constant[:5])
        train = train.drop(columns=constant)
    return train


def _split(training_set: pd.DataFrame, data_contract, params) -> tuple:
    time_col, event_col = outcome_columns(data_contract, params.outcome, "signature.outcome")
    features = training_set.drop(columns=[time_col, event_col])
    return features, training_set[time_col].to_numpy(float), training_set[event_col].to_numpy(int)


def rank_features(
    signature_training_set: pd.DataFrame,
    data_contract: dict[str, Any],
    params: SignatureParams,
) -> pd.DataFrame:
    """mRMR ranking on the training cohort: discretise features at training mean -/+ k SD,
    outcome class at horizon H (see :mod:`hcc_nomogram.stats.mrmr`)."""
    params = typed(SignatureParams, params)
    features, time, event = _split(signature_training_set, data_contract, params)
    horizon = params.mrmr.horizon_months or km_median(time, event)
    cls = survival_class(time, event, horizon)
    known = ~np.isnan(cls)
    states = discretise(features, fit_discretiser(features, params.mrmr.discretisation_sd))
    ranking = mrmr_rank(
        states[known],
        cls[known].astype(int),
        method=params.mrmr.method,
        n_features=params.mrmr.n_ranked,
        pool_size=params.mrmr.pool_size,
    )
    return ranking.assign(
        method=params.mrmr.method,
        horizon_months=float(horizon),
        n_patients=int(known.sum()),
        n_class_1=int(np.nansum(cls)),
        n_excluded_censored=int((~known).sum()),
    )


def cross_validate_signature(
    signature_training_set: pd.DataFrame,
    mrmr_ranking: pd.DataFrame,
    data_contract: dict[str, Any],
    params: SignatureParams,
) -> pd.DataFrame:
    """Every (k, l1_ratio, alpha) with its mean and SD cross-validated C; the chosen row is
    flagged ``selected``."""
    params = typed(SignatureParams, params)
    features, time, event = _split(signature_training_set, data_contract, params)
    cv = cross_validate_coxnet(
        features,
        time,
        event,
        _ranked(mrmr_ranking),
        k_grid=params.cv.k_grid,
        l1_ratio_grid=params.cv.l1_ratio_grid,
        n_folds=params.cv.n_folds,
        n_alphas=params.cv.n_alphas,
        alpha_min_ratio=params.cv.alpha_min_ratio,
        seed=params.random_seed,
    )
    chosen = select_configuration(cv, params.cv.selection)
    return cv.assign(selected=cv.index == chosen.name, selection_rule=params.cv.selection)


def fit_signature(
    signature_training_set: pd.DataFrame,
    mrmr_ranking: pd.DataFrame,
    signature_cv_results: pd.DataFrame,
    data_contract: dict[str, Any],
    params: SignatureParams,
) -> SignatureModel:
    """Refit the selected configuration on the whole training cohort and freeze it."""
    params = typed(SignatureParams, params)
    features, time, event = _split(signature_training_set, data_contract, params)
    chosen = signature_cv_results[signature_cv_results["selected"]].iloc[0]
    return fit_signature_model(
        features,
        time,
        event,
        _ranked(mrmr_ranking),
        k=int(chosen["k"]),
        l1_ratio=float(chosen["l1_ratio"]),
        alpha_index=int(chosen["alpha_index"]),
        n_alphas=params.cv.n_alphas,
        alpha_min_ratio=params.cv.alpha_min_ratio,
        config={
            "outcome": params.outcome,
            "cv_mean_c": float(chosen["mean_c"]),
            "cv_sd_c": float(chosen["sd_c"]),
            "selection": params.cv.selection,
            "mrmr_method": params.mrmr.method,
            "horizon_months": float(mrmr_ranking["horizon_months"].iloc[0]),
            "n_training": len(features),
        },
    )


def tabulate_signature_weights(signature_model: SignatureModel) -> pd.DataFrame:
    """Selected features and weights (feature, phase, weight per training SD)."""
    return signature_model.weights()


def score_signature(
    signature_model: SignatureModel,
    model_input_features: pd.DataFrame,
    data_contract: dict[str, Any],
) -> pd.DataFrame:
    """``signature_lp`` (raw, higher = worse) and ``signature_score`` (training min-max
    rescaled) for every patient of both cohorts."""
    dc = typed(DataContract, data_contract)
    keys = [
        dc.id_column,
        dc.center_column,
        dc.cohort_column,
    ]
    require_columns(model_input_features, keys, name="model_input_features", fix=_COLUMN_FIX)
    table = model_input_features.set_index(model_input_features[keys[0]].astype(str))
    lp = signature_model.linear_predictor(table)
    scores = _str_ids(model_input_features[keys], keys[0])
    scores["signature_lp"] = lp
    scores["signature_score"] = signature_model.rescale(lp)
    return scores.reset_index(drop=True)


def evaluate_signature(
    signature_scores: pd.DataFrame,
    clinical_table: pd.DataFrame,
    data_contract: dict[str, Any],
    params: SignatureParams,
) -> pd.DataFrame:
    """Harrell's C (IJ standard error, Wald CI) of ``signature_lp`` per cohort."""
    dc = typed(DataContract, data_contract)
    params = typed(SignatureParams, params)
    id_col, cohort_col = dc.id_column, dc.cohort_column
    time_col, event_col = outcome_columns(dc, params.outcome, "signature.outcome")
    clinical = _str_ids(clinical_table, id_col)
    data = signature_scores.merge(clinical[[id_col, time_col, event_col]], on=id_col)
    rows = []
    for cohort in (dc.training_value, dc.validation_value):
        part = data[data[cohort_col] == cohort].dropna(subset=[time_col, event_col])
        if part.empty:
            continue
        res = harrell_c_index(
            part[time_col], part[event_col], part["signature_lp"], alpha=params.ci_alpha
        ).to_dict()
        res["ci_alpha"], res["se_method"] = res.pop("alpha"), res.pop("method")
        rows.append(
            {
                "cohort": cohort,
                "outcome": params.outcome,
                "n_patients": len(part),
                "n_events": int(part[event_col].sum()),
                **res,
            }
        )
    return pd.DataFrame(rows)


def build_analysis_table(
    clinical_table: pd.DataFrame,
    signature_scores: pd.DataFrame,
    data_contract: dict[str, Any],
) -> pd.DataFrame:
    """``clinical_table`` + ``signature_lp`` and ``signature_score``: one row per patient."""
    dc = typed(DataContract, data_contract)
    id_col = dc.id_column
    clinical = _str_ids(clinical_table, id_col)
    table = clinical.merge(
        signature_scores[[id_col, "signature_lp", "signature_score"]],
        on=id_col,
        how="left",
        validate="one_to_one",
    )
    missing = table[id_col][table["signature_lp"].isna()]
    if len(missing):
        raise InputDataError(
            f"{len(missing)} clinical patient(s) have no signature score.",
            patient=list(missing[:5]),
        )
    return table
