"""Nodes of the `nomogram` pipeline: pure functions, no I/O.

Risk direction everywhere: ``linear_predictor`` and ``total_points`` are HIGHER = WORSE
(higher hazard of death); ``surv_<t>`` are predicted survival probabilities at t months.
"""

from __future__ import annotations

import functools
import logging

import numpy as np
import pandas as pd

from hcc_nomogram.compute import ComputeSettings, run_engine
from hcc_nomogram.datasets.tables import (
    check_cohort_values,
    check_outcomes,
    check_patient_ids,
    cohort_rows,
    outcome_columns,
)
from hcc_nomogram.errors import InputDataError, ModelFitError, SurvivalDataError, require_columns
from hcc_nomogram.parameters import DataContract, typed
from hcc_nomogram.pipelines.nomogram.config import ModelSpec, NomogramParams
from hcc_nomogram.stats.calibration import (
    calibration_at_horizon,
    integrated_brier,
    time_dependent_auc,
)
from hcc_nomogram.stats.calibration_smooth import (
    calibration_in_the_large,
    calibration_slope,
    smooth_calibration,
)
from hcc_nomogram.stats.concordance import compare_c_indices, harrell_c_index
from hcc_nomogram.stats.cox import fit_cox, proportional_hazards_test, univariate_cox
from hcc_nomogram.stats.decision_curve import decision_curve
from hcc_nomogram.stats.design import COLUMN_FIX, encode, fit_terms, term_columns
from hcc_nomogram.stats.nomogram import NomogramModel, develop_model
from hcc_nomogram.stats.reclassification import reclassification
from hcc_nomogram.stats.survival import format_median, kaplan_meier, logrank_test
from hcc_nomogram.stats.table1 import table1
from hcc_nomogram.stats.validation import bootstrap_optimism

logger = logging.getLogger(__name__)

RISK_DIRECTION = "higher linear predictor / points = higher hazard = worse survival"
COHORT = "cohort"  # column name of the cohort role in every output table


def _terms(p: NomogramParams, spec: ModelSpec | None = None):
    """Candidate terms; the signature joins when configured (and, with ``spec``, if it uses it)."""
    terms = p.terms()
    if p.signature is not None and (spec is None or spec.use_signature):
        terms.append(p.signature.term())
    return terms


def _training(df: pd.DataFrame, dc: DataContract) -> pd.DataFrame:
    """Training rows of a table whose cohort column is renamed :data:`COHORT`."""
    return cohort_rows(df, dc, column=COHORT)


# ---------------------------------------------------------------------------------------------
def prepare_nomogram_cohort(analysis_table: pd.DataFrame, params, data_contract) -> pd.DataFrame:
    """Validate ``analysis_table`` and keep complete cases of the model variables.

    Raises :class:`InputDataError` naming a missing column, and :class:`SurvivalDataError` when
    the training cohort has fewer than ``min_events`` primary-outcome events. The cohort column
    is renamed ``cohort``.
    """
    p, dc = typed(NomogramParams, params), typed(DataContract, data_contract)
    time_col, event_col = outcome_columns(dc, p.primary_outcome, setting="nomogram.primary_outcome")
    model_cols = [time_col, event_col] + [t.column for t in _terms(p)]
    categorical, numeric, _ = _table1_columns(p)
    # every column a later node needs: a missing one stops the run before its first output
    require_columns(
        analysis_table,
        [dc.id_column, dc.cohort_column, *model_cols, *categorical, *numeric],
        name="analysis_table",
        fix=COLUMN_FIX,
    )
    check_patient_ids(analysis_table, dc.id_column, source="analysis_table")
    check_cohort_values(
        analysis_table,
        dc.cohort_column,
        [dc.training_value, dc.validation_value],
        dc.id_column,
        source="analysis_table",
    )
    df = check_outcomes(analysis_table, time_col, event_col, dc.id_column, source="analysis_table")
    if dc.cohort_column != COHORT:
        df = df.drop(columns=[COHORT], errors="ignore").rename(columns={dc.cohort_column: COHORT})
    missing = df[model_cols].isna()
    incomplete = missing.any(axis=1)
    if incomplete.any():
        cols = missing.columns[missing.any()].tolist()
        logger.warning(
            "nomogram: %d of %d patients dropped for missing values in %s (complete-case analysis)",
            int(incomplete.sum()),
            len(df),
            cols,
        )
        df = df[~incomplete]
    train = _training(df, dc)
    if train.empty:
        raise InputDataError(
            f"no patient has {COHORT} == {dc.training_value!r} "
            f"(values: {sorted(map(str, df[COHORT].unique()))}).",
            column=dc.cohort_column,
            fix="set data_contract.training_value to the value marking the training cohort.",
        )
    n_events = int(pd.to_numeric(train[event_col]).sum())
    if n_events < p.min_events:
        raise SurvivalDataError(
            f"[column {event_col!r}] the training cohort has only {n_events} event(s) "
            f"(minimum nomogram.min_events = {p.min_events}); Cox models would be unstable. "
            "Potential fix: check the event coding (1 = death, 0 = censored)."
        )
    return df.reset_index(drop=True)


def _table1_columns(p: NomogramParams) -> tuple[list[str], list[str], dict[str, float]]:
    """Table 1's ``(categorical, numeric, cutoffs)`` columns."""
    categorical = [f.column or f.name for f in p.candidate_factors if f.kind == "categorical"]
    categorical += [c for c in p.table1.categorical if c not in categorical]
    cutoffs = {f.column or f.name: f.cutoff for f in p.candidate_factors if f.cutoff is not None}
    cutoffs.update(p.table1.cutoffs)
    numeric = list(dict.fromkeys([*p.table1.numeric, *cutoffs]))
    if p.signature is not None:
        numeric.append(p.signature.column)
    return categorical, numeric, cutoffs


def summarize_patient_characteristics(cohort: pd.DataFrame, params, data_contract) -> pd.DataFrame:
    """Table 1: factors by cohort, Fisher's exact (categorical) / Mann-Whitney U (numeric)."""
    p, dc = typed(NomogramParams, params), typed(DataContract, data_contract)
    categorical, numeric, cutoffs = _table1_columns(p)
    order = [dc.training_value, dc.validation_value]
    order = [g for g in order if g in set(cohort[COHORT])]
    return table1(
        cohort, COHORT, categorical=categorical, numeric=numeric, cutoffs=cutoffs, group_order=order
    )


def summarize_cohort_survival(cohort: pd.DataFrame, params, data_contract) -> pd.DataFrame:
    """Median OS / PFS (95% CI) per cohort and log-rank P between cohorts."""
    p, dc = typed(NomogramParams, params), typed(DataContract, data_contract)
    rows = []
    for key in [p.primary_outcome, p.secondary_outcome]:
        if key is None:
            continue
        time_col, event_col = outcome_columns(dc, key, setting="nomogram outcome")
        if time_col not in cohort or event_col not in cohort:
            logger.warning(
                "nomogram: outcome %r skipped, columns %s absent", key, [time_col, event_col]
            )
            continue
        d = cohort.dropna(subset=[time_col, event_col])
        lr = logrank_test(d[time_col], d[event_col], d[COHORT]) if d[COHORT].nunique() > 1 else None
        for g, sub in d.groupby(COHORT, sort=False):
            km = kaplan_meier(sub[time_col], sub[event_col])
            rows.append(
                dict(
                    outcome=key,
                    cohort=g,
                    n=km.n,
                    n_events=km.n_events,
                    median=km.median,
                    median_ci_lower=km.median_ci_lower,
                    median_ci_upper=km.median_ci_upper,
                    median_text=format_median(km),
                    logrank_p_between_cohorts=lr.p_value if lr else np.nan,
                )
            )
    return pd.DataFrame(rows)


def fit_univariate_models(cohort: pd.DataFrame, params, data_contract) -> pd.DataFrame:
    """Univariate Cox (Efron) of every candidate (and the signature) in the training cohort."""
    p, dc = typed(NomogramParams, params), typed(DataContract, data_contract)
    time_col, event_col = outcome_columns(dc, p.primary_outcome, setting="nomogram.primary_outcome")
    train = _training(cohort, dc)
    terms = fit_terms(train, _terms(p))
    out = univariate_cox(
        train[time_col], train[event_col], encode(train, terms), term_columns(terms)
    )
    labels = {t.name: t.display for t in terms}
    out.insert(1, "label", out["term"].map(labels))
    out["selected_for_multivariate"] = (out["error"] == "") & (
        out["term_p_value"] < p.univariate_p_threshold
    )
    return out


# ----- per model (namespaces `clinical`, `integrated`) ----------------------------------------
def _develop(train: pd.DataFrame, p: NomogramParams, spec: ModelSpec, dc: DataContract, **kwargs):
    """:func:`develop_model` (screening + stepwise AIC) of model ``spec`` on ``train``."""
    time_col, event_col = outcome_columns(dc, p.primary_outcome, setting="nomogram.primary_outcome")
    always = [p.signature.name] if spec.use_signature and p.signature.always_candidate else []
    return develop_model(
        train,
        _terms(p, spec),
        name=spec.name,
        time_col=time_col,
        event_col=event_col,
        p_enter=p.univariate_p_threshold,
        direction=p.stepwise.direction,
        k=p.stepwise.k,
        always_candidates=always,
        outcome=p.primary_outcome,
        **kwargs,
    )


def develop_nomogram(
    cohort: pd.DataFrame, params: NomogramParams, model: dict, data_contract
) -> tuple[NomogramModel, pd.DataFrame]:
    """Screen (univariate P) then stepwise-AIC Cox on training: the model and the AIC trace."""
    p, spec, dc = (
        typed(NomogramParams, params),
        typed(ModelSpec, model),
        typed(DataContract, data_contract),
    )
    if spec.use_signature and p.signature is None:
        reason = "no signature column configured (nomogram.signature is null): clinical-only run"
        logger.warning("nomogram: model %r not available: %s", spec.name, reason)
        return NomogramModel.unavailable(spec.name, reason), pd.DataFrame(
            {"step": [], "action": [], "term": [], "aic": [], "accepted": [], "note": []}
        )
    dev = _develop(_training(cohort, dc), p, spec, dc)
    dev.model.time_unit = p.time_unit
    return dev.model, dev.stepwise.trace


def _not_available(model: NomogramModel, **cols) -> pd.DataFrame:
    return pd.DataFrame([{"model": model.name, "available": False, "note": model.reason, **cols}])


def tabulate_multivariate_cox(model: NomogramModel) -> pd.DataFrame:
    """Table 2 block of one model: HR (95% CI) and Wald P per selected covariate."""
    if not model.available:
        return _not_available(model)
    s = model.fit.summary()
    terms = {c: t for t in model.terms for c in t.columns()}
    s.insert(0, "model", model.name)
    s.insert(1, "term", s["covariate"].map(lambda c: terms[c].name))
    s.insert(2, "label", s["covariate"].map(lambda c: terms[c].display))
    s["hr_text"] = [
        f"{h:.2f} ({lo:.2f}-{hi:.2f})"
        for h, lo, hi in zip(s["hr"], s["hr_ci_lower"], s["hr_ci_upper"])
    ]
    s["n"], s["n_events"] = model.fit.n, model.fit.n_events
    s["aic"] = model.fit.aic()
    s["available"], s["note"] = True, "HR > 1 = higher hazard (worse)"
    return s


def score_patients(
    model: NomogramModel, cohort: pd.DataFrame, params, data_contract
) -> pd.DataFrame:
    """Per patient: linear predictor, total points, survival at the horizons, risk group.

    ``risk_group`` is "high" when the LP exceeds the *training* median LP (``model.lp_cutoff``),
    applied unchanged to every cohort.
    """
    p, dc = typed(NomogramParams, params), typed(DataContract, data_contract)
    time_col, event_col = outcome_columns(dc, p.primary_outcome, setting="nomogram.primary_outcome")
    base = pd.DataFrame(
        {
            "patient_id": cohort[dc.id_column].to_numpy(),
            COHORT: cohort[COHORT].to_numpy(),
            "time": cohort[time_col].to_numpy(float),
            "event": cohort[event_col].to_numpy(int),
        }
    )
    if not model.available:
        return base.iloc[:0].assign(model=model.name)
    lp = model.predict_lp(cohort)
    base["model"] = model.name
    base["linear_predictor"] = lp
    base["total_points"] = model.predict_points(cohort)
    surv = model.predict_survival(cohort, p.horizons_months)
    for c in surv.columns:
        base[c] = surv[c].to_numpy()
    base["risk_group"] = model.risk_group(lp)
    base["lp_cutoff"] = model.lp_cutoff
    return base


def evaluate_discrimination(
    model: NomogramModel, predictions: pd.DataFrame, params, data_contract
) -> pd.DataFrame:
    """Per cohort: Harrell's C (95% CI, IJ SE), time-dependent AUC at the horizons (censoring
    from the training cohort) and the integrated Brier score of the model's survival curves."""
    p, dc = typed(NomogramParams, params), typed(DataContract, data_contract)
    if predictions.empty:
        return pd.DataFrame([{"model": "", "available": False, "note": "model not available"}])
    train = _training(predictions, dc)
    rows = []
    for g, sub in predictions.groupby(COHORT, sort=False):
        c = harrell_c_index(sub["time"], sub["event"], sub["linear_predictor"])
        auc = time_dependent_auc(
            train["time"],
            train["event"],
            sub["time"],
            sub["event"],
            sub["linear_predictor"],
            horizons=p.horizons_months,
        )
        lp = sub["linear_predictor"].to_numpy()
        row = dict(
            model=sub["model"].iloc[0],
            cohort=g,
            n=len(sub),
            n_events=int(sub["event"].sum()),
            c_index=c.c_index,
            c_se=c.se,
            c_ci_lower=c.ci_lower,
            c_ci_upper=c.ci_upper,
        )
        for h, a, note in auc.itertuples(index=False):
            row[f"auc_{h:g}"] = a
            if note:
                row.setdefault("note", note)
        row.update(_ibs(train, sub, lp, model, t_max=max(p.horizons_months)))
        row["available"] = True
        rows.append(row)
    return pd.DataFrame(rows)


def _ibs(train, sub, lp, model: NomogramModel, *, t_max: float) -> dict:
    """IBS of ``S(t) = S0(t) ** exp(lp)``, S0 the model's Breslow baseline (fitted on training)."""

    def surv_fn(grid):
        return model.fit.survival(lp, grid)

    try:
        brier = integrated_brier(
            train["time"],
            train["event"],
            sub["time"],
            sub["event"],
            surv_fn,
            t_max=t_max,
        )
    except ValueError as exc:
        return dict(ibs=np.nan, ibs_from=np.nan, ibs_to=np.nan, ibs_note=str(exc))
    return dict(ibs=brier.ibs, ibs_from=brier.t_start, ibs_to=brier.t_end)


def _develop_predictor(df: pd.DataFrame, p: NomogramParams, spec: ModelSpec, dc: DataContract):
    """The whole development of ``spec`` on ``df`` -> its linear predictor (higher = worse)."""
    return _develop(df, p, spec, dc, engine="numpy").model.predict_lp


def validate_by_bootstrap(  # noqa: PLR0913  a Kedro node: one argument per declared input
    cohort: pd.DataFrame, params: NomogramParams, model: dict, data_contract, compute
) -> pd.DataFrame:
    """Optimism-corrected C in training: screening + stepwise repeated in every resample.

    The resamples run on the run's compute engine (``compute``, docs/scaling.md), in chunks;
    the result does not depend on where they run."""
    p, spec, dc = (
        typed(NomogramParams, params),
        typed(ModelSpec, model),
        typed(DataContract, data_contract),
    )
    if spec.use_signature and p.signature is None:
        return _not_available(NomogramModel.unavailable(spec.name, "no signature column"))
    time_col, event_col = outcome_columns(dc, p.primary_outcome, setting="nomogram.primary_outcome")
    engine = run_engine(typed(ComputeSettings, compute))
    logger.info(
        "nomogram %s: %d bootstrap resamples on %s",
        spec.name,
        p.bootstrap.n_resamples,
        engine.describe(),
    )
    res = bootstrap_optimism(
        _training(cohort, dc).reset_index(drop=True),
        functools.partial(_develop_predictor, p=p, spec=spec, dc=dc),
        time_col=time_col,
        event_col=event_col,
        n_bootstrap=p.bootstrap.n_resamples,
        seed=p.bootstrap.seed,
        map_ordered=engine.map_ordered,
    )
    return pd.DataFrame(
        [
            {
                "model": spec.name,
                **res.to_dict(),
                "available": True,
                "note": "selection repeated in each resample (rms::validate style)",
            }
        ]
    )


def assess_calibration(predictions: pd.DataFrame, params) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Grouped calibration at each horizon and cohort: (group table, RMSE summary)."""
    p = typed(NomogramParams, params)
    if predictions.empty:
        na = pd.DataFrame([{"available": False, "note": "model not available"}])
        return na, na
    groups, summary = [], []
    for g, sub in predictions.groupby(COHORT, sort=False):
        for h in p.calibration.horizons_months:
            grouped = calibration_at_horizon(
                sub["time"],
                sub["event"],
                _survival_column(sub, h),
                h,
                n_groups=p.calibration.n_groups,
                min_group=p.calibration.min_group,
            )
            table = grouped.table
            table.insert(0, COHORT, g)
            table.insert(0, "model", sub["model"].iloc[0])
            groups.append(table)
            summary.append(
                dict(
                    model=sub["model"].iloc[0],
                    cohort=g,
                    horizon=h,
                    rmse=grouped.rmse,
                    n_groups_estimable=int(table["estimable"].sum()),
                )
            )
    return pd.concat(groups, ignore_index=True), pd.DataFrame(summary).assign(available=True)


def assess_smooth_calibration(
    predictions: pd.DataFrame, params, compute=None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Calibration slope, O/E calibration-in-the-large and the smoothed calibration curve
    (ICI / E50 / E90) at each calibration horizon and cohort (Austin et al. 2020; see
    :mod:`hcc_nomogram.stats.calibration_smooth`): (metrics table, curve table). A statistic
    that cannot be estimated (e.g. no event before the horizon) is NaN with a ``note``.

    Each cohort x horizon (with its bootstrap band) is one task on the run's compute engine
    (``compute``; default: in this process); the tables keep cohort x horizon order."""
    p = typed(NomogramParams, params)
    if predictions.empty:
        na = pd.DataFrame([{"available": False, "note": "model not available"}])
        return na, na
    cells = [  # (model, cohort, horizon, (time, event, survival, horizon)); columns checked here
        (sub["model"].iloc[0], g, h, (sub["time"], sub["event"], _survival_column(sub, h), h))
        for g, sub in predictions.groupby(COHORT, sort=False)
        for h in p.calibration.horizons_months
    ]
    settings = ComputeSettings(mode="synchronous") if compute is None else compute
    engine = run_engine(typed(ComputeSettings, settings))
    rows = engine.map_ordered(
        functools.partial(_smooth_calibration_cell, p=p), [cell[3] for cell in cells]
    )
    metrics, curves = [], []
    for (model, g, h, _), (row, curve) in zip(cells, rows, strict=True):
        metrics.append({"model": model, COHORT: g, "horizon": h, **row})
        if curve is not None:
            curves.append(curve.assign(model=model, cohort=g, horizon=h))
    curve_table = (
        pd.concat(curves, ignore_index=True)[
            ["model", COHORT, "horizon", "predicted_risk", "observed_risk", "ci_lower", "ci_upper"]
        ]
        if curves
        else pd.DataFrame([{"available": False, "note": "no curve could be fitted"}])
    )
    return pd.DataFrame(metrics).assign(available=True), curve_table


def _smooth_calibration_cell(cell: tuple, p: NomogramParams):
    """:func:`_smooth_calibration_row` of one ``(time, event, survival, horizon)``: the pure
    function run on the engine's workers."""
    return _smooth_calibration_row(*cell, p)


def _survival_column(sub: pd.DataFrame, horizon: float) -> pd.Series:
    col = f"surv_{horizon:g}"
    if col not in sub or sub[col].isna().any():
        raise InputDataError(
            f"predictions lack survival at {horizon:g} months.",
            column=col,
            fix="add the horizon to nomogram.horizons_months.",
        )
    return sub[col]


def _smooth_calibration_row(time, event, s, horizon, p: NomogramParams):
    """One metrics row (and the curve, or None) of one cohort at one horizon."""
    notes = []
    row = dict(n=len(time), n_events_by_horizon=int(((time <= horizon) & (event == 1)).sum()))
    try:
        fit = calibration_slope(time, event, s, horizon)
        row.update(
            slope=fit.slope,
            slope_se=fit.se,
            slope_ci_lower=fit.ci_lower,
            slope_ci_upper=fit.ci_upper,
        )
    except (ModelFitError, SurvivalDataError) as exc:
        notes.append(f"slope: {exc}")
    citl = calibration_in_the_large(time, event, s, horizon)
    row.update(
        observed_risk=citl.observed_risk,
        mean_predicted_risk=citl.mean_predicted_risk,
        oe_ratio=citl.oe_ratio,
        oe_ci_lower=citl.oe_ci_lower,
        oe_ci_upper=citl.oe_ci_upper,
        citl_log_oe=citl.intercept,
    )
    if not np.isfinite(citl.observed_risk):
        notes.append("O/E: follow-up ends before the horizon")
    curve = None
    try:
        res = smooth_calibration(
            time,
            event,
            s,
            horizon,
            n_bootstrap=p.calibration.band_resamples,
            seed=p.calibration.band_seed,
        )
        row.update(
            ici=res.ici,
            e50=res.e50,
            e90=res.e90,
            emax=res.emax,
            smooth_model=res.model,
            band_resamples=res.n_bootstrap,
            band_failed=res.n_failed,
        )
        curve = res.curve
    except (ModelFitError, SurvivalDataError) as exc:
        notes.append(f"smooth curve: {exc}")
    row["note"] = "; ".join(notes)
    return row, curve


def check_proportional_hazards(model: NomogramModel, cohort: pd.DataFrame, params, data_contract):
    """Grambsch-Therneau scaled-Schoenfeld test per covariate and global (training)."""
    p, dc = typed(NomogramParams, params), typed(DataContract, data_contract)
    if not model.available:
        return _not_available(model)
    time_col, event_col = outcome_columns(dc, p.primary_outcome, setting="nomogram.primary_outcome")
    train = _training(cohort, dc)
    out = proportional_hazards_test(
        model.fit, train[time_col], train[event_col], model.design(train), transform=p.ph_transform
    )
    out.insert(0, "model", model.name)
    return out.assign(available=True)


def build_nomogram_points(model: NomogramModel, params) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Nomogram as data: points per factor level (0-100) and total points -> survival scale."""
    p = typed(NomogramParams, params)
    if not model.available:
        na = _not_available(model)
        return na, na
    return model.points_table(), model.survival_scale(p.horizons_months, step=p.points_step)


# ----- across models --------------------------------------------------------------------------
def compare_models(clinical: pd.DataFrame, integrated: pd.DataFrame) -> pd.DataFrame:
    """Per cohort: C of both models and the paired test of their difference (integrated -
    clinical)."""
    rows = []
    if integrated.empty or clinical.empty:
        for g, sub in clinical.groupby(COHORT, sort=False):
            c = harrell_c_index(sub["time"], sub["event"], sub["linear_predictor"])
            rows.append(
                dict(
                    cohort=g,
                    c_clinical=c.c_index,
                    c_integrated=np.nan,
                    delta=np.nan,
                    se=np.nan,
                    z=np.nan,
                    p_value=np.nan,
                    note="integrated model not available (no signature column)",
                )
            )
        return pd.DataFrame(rows)
    merged = clinical.merge(
        integrated[["patient_id", "linear_predictor"]],
        on="patient_id",
        suffixes=("_clinical", "_integrated"),
    )
    for g, sub in merged.groupby(COHORT, sort=False):
        ca = harrell_c_index(sub["time"], sub["event"], sub["linear_predictor_integrated"])
        cb = harrell_c_index(sub["time"], sub["event"], sub["linear_predictor_clinical"])
        diff = compare_c_indices(
            sub["time"],
            sub["event"],
            sub["linear_predictor_integrated"],
            sub["linear_predictor_clinical"],
        )
        rows.append(
            dict(
                cohort=g,
                n=len(sub),
                c_clinical=cb.c_index,
                c_clinical_ci=f"{cb.ci_lower:.3f}-{cb.ci_upper:.3f}",
                c_integrated=ca.c_index,
                c_integrated_ci=f"{ca.ci_lower:.3f}-{ca.ci_upper:.3f}",
                **diff.to_dict(),
                note="paired IJ test, integrated - clinical",
            )
        )
    return pd.DataFrame(rows)


def combine_multivariate_tables(clinical: pd.DataFrame, integrated: pd.DataFrame) -> pd.DataFrame:
    """Table 2: both models' HR (95% CI) and P stacked (``model`` column)."""
    return pd.concat([clinical, integrated], ignore_index=True)


def stratify_risk_groups(
    integrated: pd.DataFrame, clinical: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Risk groups at the training median LP of the integrated nomogram (clinical nomogram when
    the integrated one is not available): (summary per cohort, long KM curves for plotting)."""
    preds = integrated if not integrated.empty else clinical
    summary, curves = [], []
    for g, sub in preds.groupby(COHORT, sort=False):
        lr = (
            logrank_test(sub["time"], sub["event"], sub["risk_group"])
            if sub["risk_group"].nunique() > 1
            else None
        )
        try:
            hr_fit = fit_cox(
                sub["time"],
                sub["event"],
                pd.DataFrame({"high_vs_low": (sub["risk_group"] == "high").astype(float)}),
            )
            hr = hr_fit.summary().iloc[0]
        except (ModelFitError, SurvivalDataError) as exc:
            logger.warning("risk groups (%s): HR not estimable: %s", g, exc)
            hr = pd.Series(
                {"hr": np.nan, "hr_ci_lower": np.nan, "hr_ci_upper": np.nan, "p_value": np.nan}
            )
        row = dict(
            model=sub["model"].iloc[0],
            cohort=g,
            lp_cutoff=sub["lp_cutoff"].iloc[0],
            logrank_p=lr.p_value if lr else np.nan,
            hr_high_vs_low=hr["hr"],
            hr_ci_lower=hr["hr_ci_lower"],
            hr_ci_upper=hr["hr_ci_upper"],
            hr_p_value=hr["p_value"],
            risk_direction=RISK_DIRECTION,
        )
        for grp in ("low", "high"):
            gsub = sub[sub["risk_group"] == grp]
            row[f"n_{grp}"] = len(gsub)
            if len(gsub) and gsub["event"].any():
                km = kaplan_meier(gsub["time"], gsub["event"])
                row[f"median_{grp}"] = format_median(km)
                curves.append(km.table.assign(model=row["model"], cohort=g, risk_group=grp))
        summary.append(row)
    cols = [
        "model",
        COHORT,
        "risk_group",
        "time",
        "n_at_risk",
        "n_events",
        "n_censored",
        "survival",
        "ci_lower",
        "ci_upper",
    ]
    km_long = pd.concat(curves, ignore_index=True)[cols] if curves else pd.DataFrame(columns=cols)
    return pd.DataFrame(summary), km_long


# ----- decision curves and reclassification (both models) -------------------------------------
def _risk_at(predictions: pd.DataFrame, horizon: float) -> np.ndarray:
    """Predicted probability of death by ``horizon`` (``1 - surv_<h>``; higher = worse)."""
    return 1.0 - _survival_column(predictions, horizon).to_numpy(float)


def _by_cohort(predictions: dict[str, pd.DataFrame]):
    """Per cohort: (cohort, outcome rows, {model: its predictions in the same patient order})
    over the available (non-empty) models."""
    models = {name: pred for name, pred in predictions.items() if not pred.empty}
    base = next(iter(models.values()))
    for g, sub in base.groupby(COHORT, sort=False):
        ids = sub["patient_id"]
        yield g, sub, {m: pred.set_index("patient_id").loc[ids] for m, pred in models.items()}


def analyse_decision_curves(
    clinical: pd.DataFrame, integrated: pd.DataFrame, params
) -> pd.DataFrame:
    """Net benefit of the nomograms vs treat-all / treat-none per cohort and horizon
    (Kaplan-Meier survival decision curves; risk = 1 - predicted survival, higher = worse)."""
    p = typed(NomogramParams, params)
    if clinical.empty and integrated.empty:
        return pd.DataFrame([{"available": False, "note": "no nomogram available"}])
    thresholds = p.decision_curve.thresholds()
    frames = []
    for g, sub, preds in _by_cohort({"clinical": clinical, "integrated": integrated}):
        for h in p.horizons_months:
            risks = {m: _risk_at(pred, h) for m, pred in preds.items()}
            res = decision_curve(sub["time"], sub["event"], risks, h, thresholds)
            frames.append(res.table.assign(cohort=g, horizon=h, event_rate_cohort=res.event_rate))
    out = pd.concat(frames, ignore_index=True)
    lead = [COHORT, "horizon", "strategy", "threshold"]
    return out[lead + [c for c in out.columns if c not in lead]].assign(available=True)


def assess_reclassification(
    clinical: pd.DataFrame, integrated: pd.DataFrame, params
) -> pd.DataFrame:
    """IPCW continuous NRI, categorical NRI and IDI of the integrated over the clinical
    nomogram per cohort and horizon, with seeded bootstrap percentile CIs."""
    p = typed(NomogramParams, params)
    if integrated.empty or clinical.empty:
        note = "integrated model not available (no signature column)"
        return pd.DataFrame([{"available": False, "note": note}])
    spec = p.reclassification
    rows = []
    for g, sub, preds in _by_cohort({"clinical": clinical, "integrated": integrated}):
        for h in p.horizons_months:
            try:
                res = reclassification(
                    sub["time"],
                    sub["event"],
                    _risk_at(preds["clinical"], h),
                    _risk_at(preds["integrated"], h),
                    h,
                    categories=spec.risk_categories,
                    n_bootstrap=spec.n_bootstrap,
                    seed=spec.seed,
                    alpha=spec.alpha,
                )
            except SurvivalDataError as exc:
                logger.warning("reclassification (%s, %g months) not estimable: %s", g, h, exc)
                rows.append(
                    pd.DataFrame([{COHORT: g, "horizon": h, "available": False, "note": str(exc)}])
                )
                continue
            frame = res.to_frame()
            frame.insert(0, COHORT, g)
            rows.append(frame.assign(available=True, note="integrated vs clinical, IPCW"))
    return pd.concat(rows, ignore_index=True)
