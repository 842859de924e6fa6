"""Report sections: validated inputs -> (figures, :class:`~hcc_nomogram.report.html.Section`).

Each builder checks its inputs with :func:`require_columns` / :func:`require_input`, so a
missing upstream output fails with the pipeline to run first. The ``reporting`` pipeline's
nodes are thin wrappers around these builders.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from hcc_nomogram.parameters import DataContract
from hcc_nomogram.report import images, plots
from hcc_nomogram.report.errors import require_columns, require_input
from hcc_nomogram.report.html import Section
from hcc_nomogram.report.nomogram import nomogram_figure
from hcc_nomogram.report.survival import format_p

Figures = dict[str, go.Figure]


def cohort_section(
    clinical: pd.DataFrame,
    contract: DataContract,
    *,
    at_risk_every: float = 12.0,
    table_1: pd.DataFrame | None = None,
) -> tuple[Figures, Section]:
    """Table 1 and KM curves of OS and PFS, training vs validation (paper Fig 2A/B)."""
    outcomes = contract.outcomes
    cohort_col = contract.cohort_column
    cols = [cohort_col] + [c for o in outcomes.values() for c in (o.time, o.event)]
    require_columns(clinical, cols, "clinical_table", "Cohort")
    order = [contract.training_value, contract.validation_value]
    sec = Section("cohort", "Cohort")
    counts = clinical[cohort_col].value_counts()
    sec.text(", ".join(f"{g}: {int(counts.get(g, 0))} patients" for g in order) + ".")
    if table_1 is not None:
        sec.table(table_1, caption="Table 1. Patient characteristics by cohort")
    figs: Figures = {}
    for name, o in outcomes.items():
        axes = plots.KMAxes(
            title=f"{name.upper()}: training vs validation",
            at_risk_every=at_risk_every,
            group_order=order,
            survival_label=f"{name.upper()} probability",
        )
        fig = plots.km_figure(
            clinical[o.time], clinical[o.event], clinical[cohort_col], axes, show_logrank=True
        )
        figs[f"km_{name}"] = fig
        sec.figure(
            fig,
            name=f"km_{name}",
            caption=f"Kaplan-Meier {name.upper()} by cohort with numbers at risk (Fig 2A/B).",
        )
    return figs, sec


def sample_patients(ids: Sequence[str], n: int) -> list[str]:
    """``n`` patients spread evenly over the sorted ids (deterministic)."""
    ids = sorted(ids)
    if n >= len(ids):
        return ids
    return [ids[int(i)] for i in np.linspace(0, len(ids) - 1, n).round().astype(int)]


def _load(partitions: Mapping[str, Any], pid: str) -> Mapping[str, np.ndarray]:
    value = partitions[pid]
    return value() if callable(value) else value


def carried_masks(qc: pd.DataFrame, id_col: str = "patient_id") -> pd.DataFrame:
    """``patient, phase, delineation, carried from`` for every ``<phase>__<d>__mask_carried_from``
    QC value (a delineation given on one phase only; see docs/data_contract.md)."""
    rows = []
    for column in [c for c in qc.columns if c.endswith("__mask_carried_from")]:
        phase, delineation, _ = column.split("__", 2)
        for pid, source in zip(qc[id_col], qc[column]):
            if isinstance(source, str) and source:
                rows.append(
                    {
                        id_col: pid,
                        "phase": phase,
                        "delineation": delineation,
                        "carried from": source,
                    }
                )
    return pd.DataFrame(rows, columns=[id_col, "phase", "delineation", "carried from"])


def preprocessing_section(
    qc: pd.DataFrame,
    crops: Mapping[str, Callable | Mapping],
    contract: DataContract,
    *,
    n_patients: int = 3,
    stride: int = 2,
) -> tuple[Figures, Section]:
    """Registration before/after and sample crops (``contract.phases``, primary delineation)
    with tumour contours."""
    id_col, delineation = contract.id_column, contract.primary_delineation
    require_columns(qc, [id_col], "preprocessing_qc", "Preprocessing QC")
    require_input(crops, "preprocessed_crops", "Preprocessing QC")
    sec = Section("preprocessing", "Preprocessing quality control")
    n_excl = int(qc["excluded"].astype(bool).sum()) if "excluded" in qc else 0
    sec.text(f"{len(qc)} patients checked, {n_excl} excluded.")
    if n_excl:
        cols = [c for c in (id_col, "exclusion_reason") if c in qc]
        sec.table(qc.loc[qc["excluded"].astype(bool), cols], caption="Excluded patients")
    carried = carried_masks(qc, id_col)
    if len(carried):
        sec.table(
            carried,
            caption="Masks delineated on one phase only, carried to the other "
            "phase through the registration",
        )
    figs: Figures = {}
    if {"registration_metric_before", "registration_metric_after"} <= set(qc.columns):
        figs["registration"] = plots.registration_metric_figure(qc)
        sec.figure(
            figs["registration"],
            name="registration",
            caption="Arterial-to-portal registration: metric per patient before vs after.",
        )
    pids = sample_patients(list(crops), n_patients)
    panels = []
    for pid in pids:
        arrays = _load(crops, pid)
        panels.append(
            [
                {
                    "image": arrays[f"{ph}__{delineation}__image"],
                    "mask": arrays.get(f"{ph}__{delineation}__mask"),
                    "title": f"{pid} {ph}",
                }
                for ph in contract.phases
            ]
        )
    figs["sample_crops"] = images.image_grid_figure(
        panels, title="Sample crops with tumour contour (reader 1, first read)", stride=stride
    )
    sec.figure(
        figs["sample_crops"],
        name="sample_crops",
        caption="224x224 z-scored crops of the representative slice; red: tumour mask.",
    )
    return figs, sec


def icc_long(icc_tables: Mapping[str, pd.DataFrame]) -> tuple[pd.DataFrame, list[str]]:
    """Stack per-phase ICC tables (``<comparison>_icc`` columns) with a ``phase`` column."""
    frames, icc_cols = [], []
    for phase, table in icc_tables.items():
        require_columns(table, ["feature"], f"{phase}.icc_table", "Reproducibility")
        cols = [c for c in table.columns if c.endswith("_icc")]
        if not cols:
            require_columns(table, ["<comparison>_icc"], f"{phase}.icc_table", "Reproducibility")
        icc_cols = icc_cols or cols
        frames.append(table.assign(phase=phase))
    return pd.concat(frames, ignore_index=True), icc_cols


def reproducibility_section(
    icc_tables: Mapping[str, pd.DataFrame], *, threshold: float
) -> tuple[Figures, Section]:
    """ICC distribution per phase and how many features passed."""
    icc, cols = icc_long(icc_tables)
    cols = [c for c in cols if icc[c].notna().any()]  # comparisons that could be computed
    sec = Section("reproducibility", "Feature reproducibility")
    passed = icc.groupby("phase").apply(
        lambda d: (
            int(d["reproducible"].sum())
            if "reproducible" in d
            else int((d[cols] > threshold).all(axis=1).sum())
        ),
        include_groups=False,
    )
    summary = pd.DataFrame(
        {
            "phase": passed.index,
            "features": icc.groupby("phase").size().values,
            f"reproducible (all ICC > {threshold:g})": passed.values,
        }
    )
    sec.table(summary, caption="Reproducible deep features per phase")
    for column in [c for c in icc.columns if c.endswith("_status")]:
        skipped = icc.loc[icc[column].astype(str).str.startswith("not computed"), ["phase", column]]
        for phase, status in skipped.drop_duplicates().itertuples(index=False):
            sec.text(
                f"{phase}: ICC filter {column.removesuffix('_status')!r} {status}; "
                "it is not applied."
            )
    fig = plots.icc_histogram(icc, threshold=threshold, icc_columns=cols)
    sec.figure(fig, name="icc", caption="ICC(2,1) intra- and inter-reader; dashed: threshold.")
    return {"icc": fig}, sec


def signature_section(
    weights: pd.DataFrame,
    cv: pd.DataFrame | None,
    metrics: pd.DataFrame,
    *,
    columns: Mapping[str, str],
) -> tuple[Figures, Section]:
    """Selected features and weights, CV curve over the elastic-net grid, C-index with CI per
    cohort. ``columns`` maps roles to the signature tables' column names (settings)."""
    c = columns
    require_columns(weights, [c["feature"], c["weight"]], "signature_weights", "Signature")
    metric_cols = [c["metric_cohort"], c["c_index"], c["ci_lower"], c["ci_upper"]]
    require_columns(metrics, metric_cols, "signature_metrics", "Signature")
    sec = Section("signature", "Deep learning signature")
    w = weights[weights[c["weight"]] != 0]
    sec.text(
        f"{len(w)} deep feature(s) selected by mRMR + elastic-net Cox"
        + (
            f" ({', '.join(f'{k}: {v}' for k, v in w[c['phase']].value_counts().items())})"
            if c.get("phase") in w
            else ""
        )
        + ". Weights are Cox coefficients per training "
        "SD of the feature; > 0 = higher hazard (worse)."
    )
    figs: Figures = {
        "signature_weights": plots.signature_weights_figure(
            weights, feature_col=c["feature"], weight_col=c["weight"]
        )
    }
    sec.figure(
        figs["signature_weights"],
        name="signature_weights",
        caption="Elastic-net Cox coefficients of the selected features (> 0: worse).",
    )
    sec.table(weights, caption="Selected features (signature_weights)", float_format="{:.4g}")
    if cv is not None and len(cv):
        require_columns(cv, [c["cv_x"], c["cv_mean"]], "signature_cv_results", "Signature")
        figs["signature_cv"] = plots.cv_curve_figure(
            cv,
            plots.CVColumns(
                x=c["cv_x"],
                mean=c["cv_mean"],
                sd=c.get("cv_sd"),
                selected=c.get("cv_selected"),
                groups=[g for g in ("k", "l1_ratio") if g in cv],
            ),
        )
        cap = "Mean cross-validated C-index over the alpha path, one line per (k, l1_ratio)"
        if c.get("cv_selected") in cv and cv[c["cv_selected"]].astype(bool).any():
            row = cv[cv[c["cv_selected"]].astype(bool)].iloc[0]
            cap += (
                "; star: selected configuration "
                + ", ".join(f"{k}={row[k]:.4g}" for k in ("k", "l1_ratio", c["cv_x"]) if k in row)
                + f", mean C {row[c['cv_mean']]:.3f}"
            )
        sec.figure(figs["signature_cv"], name="signature_cv", caption=cap + ".")
    else:
        figs["signature_cv"] = plots.not_available_figure(
            "Signature cross-validation", "signature_cv_results is empty"
        )
        sec.figure(figs["signature_cv"], name="signature_cv")
    renamed = metrics.rename(
        columns={
            c["metric_cohort"]: "cohort",
            c["c_index"]: "c_index",
            c["ci_lower"]: "ci_lower",
            c["ci_upper"]: "ci_upper",
        }
    )
    figs["signature_cindex"] = plots.cindex_figure(
        renamed.assign(model="signature"), title="Signature C-index (95% CI)"
    )
    sec.figure(
        figs["signature_cindex"],
        name="signature_cindex",
        caption="Harrell's C of the signature per cohort (validation never used to fit).",
    )
    sec.table(metrics, caption="Signature performance (signature_metrics)")
    return figs, sec


def cam_section(
    panels: Sequence[Sequence[dict]], *, weights_source: str, stride: int = 2
) -> tuple[Figures, Section]:
    """Class activation heat maps over the AP and PVP crops (paper Fig 3)."""
    require_input(panels, "preprocessed_crops", "Class activation maps")
    sec = Section("cam", "Class activation maps")
    if weights_source == "random":
        sec.html(
            '<p class="section-error">These maps come from RANDOM DenseNet weights: '
            "they do not show what an ImageNet network attends to.</p>"
        )
    fig = images.image_grid_figure(panels, title="Signature class activation maps", stride=stride)
    sec.figure(
        fig,
        name="cam",
        caption="Heat map: contribution of each region to the signature "
        "(higher = worse), min-max scaled per crop; red line: tumour.",
    )
    return {"cam": fig}, sec


def nomogram_figures(
    points: pd.DataFrame, scale: pd.DataFrame, *, model: str, times: Sequence[float]
) -> go.Figure:
    """Adapter from ``NomogramModel.points_table()`` / ``survival_scale()`` to the drawing."""
    fp = points.rename(columns={"label": "factor"})[["factor", "level", "points"]]
    surv_cols = [c for c in scale.columns if c.startswith("surv_")]
    long = scale.melt(
        id_vars=["total_points"], value_vars=surv_cols, var_name="time", value_name="survival"
    )
    long["time"] = long["time"].str.removeprefix("surv_").astype(float)
    return nomogram_figure(fp, long, times=times, title=f"{model.capitalize()} nomogram")


def is_available(table: pd.DataFrame | None) -> bool:
    """False for a missing/empty table or a "not available" table (``available`` all False,
    as the nomogram pipeline writes for the integrated model of a clinical-only run)."""
    if table is None or len(table) == 0:
        return False
    return not ("available" in table and not table["available"].fillna(False).astype(bool).any())


def unavailable_note(table: pd.DataFrame | None, what: str) -> str:
    note = ""
    if table is not None and "note" in table and len(table):
        note = str(table["note"].dropna().iloc[0]) if table["note"].notna().any() else ""
    return f"{what}: not available" + (f" ({note})." if note else ".")


def _say_unavailable(sec: Section, table, what: str, name: str, title: str = "") -> Figures:
    """Say in ``sec`` why ``table`` is not available (text and a placeholder figure)."""
    msg = unavailable_note(table, what)
    sec.text(msg)
    sec.figure(fig := plots.not_available_figure(title or what, msg), name=name)
    return {name: fig}


def _pretty_p(frame: pd.DataFrame, cols: Sequence[str]) -> pd.DataFrame:
    out = frame.copy()
    for col in cols:
        if col in out:
            out[col] = [
                format_p(v).removeprefix("P ").removeprefix("= ") if pd.notna(v) else ""
                for v in out[col]
            ]
    return out


def characteristics_section(
    table1: pd.DataFrame, cohort_survival: pd.DataFrame
) -> tuple[Figures, Section]:
    """Table 1 (patient characteristics by cohort) and median OS / PFS per cohort."""
    require_columns(
        table1, ["variable"], "table1_characteristics", "Characteristics", pipeline="nomogram"
    )
    require_columns(
        cohort_survival,
        ["outcome", "cohort"],
        "cohort_survival",
        "Characteristics",
        pipeline="nomogram",
    )
    sec = Section("characteristics", "Patient characteristics and survival")
    sec.table(
        _pretty_p(table1, ["p_value"]),
        caption="Table 1. Characteristics by cohort (Fisher's exact / Mann-Whitney U)",
    )
    cols = [
        c
        for c in ("outcome", "cohort", "n", "n_events", "median_text", "logrank_p_between_cohorts")
        if c in cohort_survival
    ]
    surv = _pretty_p(cohort_survival[cols], ["logrank_p_between_cohorts"]).rename(
        columns={
            "median_text": "median, months (95% CI)",
            "logrank_p_between_cohorts": "log-rank P between cohorts",
        }
    )
    sec.table(surv, caption="Median overall and progression-free survival per cohort")
    return {}, sec


def nomogram_section(
    models: Mapping[str, tuple[pd.DataFrame, pd.DataFrame]],
    multivariate: pd.DataFrame,
    *,
    times: Sequence[float],
) -> tuple[Figures, Section]:
    """Table 2 (multivariate Cox of both models) and each model drawn as a nomogram
    (paper Fig 4A/B). ``models``: name -> (``nomogram_points``, ``nomogram_survival_scale``)."""
    require_input(multivariate, "multivariate_cox_table", "Nomograms", pipeline="nomogram")
    sec = Section("nomogram", "Nomograms")
    t2 = multivariate
    cols = [c for c in ("model", "label", "hr_text", "p_value", "n", "n_events", "note") if c in t2]
    sec.table(
        _pretty_p(t2[cols], ["p_value"]).rename(columns={"hr_text": "HR (95% CI)"}),
        caption="Table 2. Multivariate Cox regression (HR > 1 = higher hazard, worse)",
    )
    figs: Figures = {}
    for name, (points, scale) in models.items():
        key = f"nomogram_{name}"
        if is_available(points) and is_available(scale):
            require_columns(
                points,
                ["label", "level", "points"],
                f"{name}.nomogram_points",
                "Nomograms",
                pipeline="nomogram",
            )
            require_columns(
                scale,
                ["total_points"],
                f"{name}.nomogram_survival_scale",
                "Nomograms",
                pipeline="nomogram",
            )
            figs[key] = nomogram_figures(points, scale, model=name, times=times)
            sec.figure(
                figs[key],
                name=key,
                caption=(
                    f"{name.capitalize()} nomogram: read each factor's points on the top axis, add "
                    "them, and read the predicted survival under the total (Fig 4A/B)."
                ),
            )
        else:
            figs |= _say_unavailable(sec, points, f"{name.capitalize()} nomogram", key)
    return figs, sec


def discrimination_section(
    discrimination: Mapping[str, pd.DataFrame], comparison: pd.DataFrame
) -> tuple[Figures, Section]:
    """C-index per model and cohort with the paired comparison, time-dependent AUC and IBS."""
    require_input(comparison, "c_index_comparison", "Discrimination", pipeline="nomogram")
    sec = Section("discrimination", "Discrimination: C-index, time-dependent AUC, IBS")
    sec.table(
        _pretty_p(comparison, ["p_value"]).rename(columns={"p_value": "P"}),
        caption="C-index of the clinical and integrated nomograms with the paired test "
        "(integrated - clinical)",
        float_format="{:.3f}",
    )
    avail = {m: d for m, d in discrimination.items() if is_available(d)}
    for m, d in discrimination.items():
        if m not in avail:
            sec.text(unavailable_note(d, f"{m.capitalize()} nomogram discrimination"))
    figs: Figures = {}
    if avail:
        for m, d in avail.items():
            require_columns(
                d,
                ["cohort", "c_index", "c_ci_lower", "c_ci_upper"],
                f"{m}.discrimination",
                "Discrimination",
                pipeline="nomogram",
            )
        table = pd.concat(
            [d.assign(model=d.get("model", m)) for m, d in avail.items()], ignore_index=True
        )
        figs["model_cindex"] = plots.cindex_figure(
            table.rename(columns={"c_ci_lower": "ci_lower", "c_ci_upper": "ci_upper"}),
            title="Nomogram C-index (95% CI)",
        )
        auc_cols = [c for c in table if c.startswith("auc_")]
        auc = table.melt(
            id_vars=["model", "cohort"], value_vars=auc_cols, var_name="time", value_name="auc"
        ).dropna(subset=["auc"])
        auc["time"] = auc["time"].str.removeprefix("auc_").astype(float)
        figs["time_auc"] = (
            plots.time_auc_figure(auc.sort_values(["model", "cohort", "time"]))
            if len(auc)
            else plots.not_available_figure("Time-dependent AUC", "no horizon inside follow-up")
        )
        keep = [
            c
            for c in (
                "model",
                "cohort",
                "n",
                "n_events",
                "c_index",
                "c_ci_lower",
                "c_ci_upper",
                *auc_cols,
                "ibs",
                "ibs_from",
                "ibs_to",
                "note",
            )
            if c in table
        ]
        sec.table(
            table[keep],
            caption="Harrell's C (95% CI), time-dependent AUC at the "
            "horizons and integrated Brier score (IBS, lower = better) per model and cohort",
        )
    else:
        figs["model_cindex"] = plots.not_available_figure("Nomogram C-index")
        figs["time_auc"] = plots.not_available_figure("Time-dependent AUC")
    sec.figure(
        figs["model_cindex"],
        name="model_cindex",
        caption="Harrell's C with 95% CI (IJ standard error); dotted: 0.5.",
    )
    sec.figure(
        figs["time_auc"],
        name="time_auc",
        caption="Cumulative/dynamic AUC(t) at the nomogram horizons (censoring from training).",
    )
    return figs, sec


def calibration_section(
    models: Mapping[str, tuple[pd.DataFrame, pd.DataFrame]],
) -> tuple[Figures, Section]:
    """Calibration curves of both nomograms with RMSE (paper Fig 4C).
    ``models``: name -> (``calibration``, ``calibration_summary``)."""
    sec = Section("calibration", "Calibration")
    curves, rmse, summaries = [], {}, []
    for name, (raw, summary) in models.items():
        if not (is_available(raw) and is_available(summary)):
            sec.text(unavailable_note(raw, f"{name.capitalize()} nomogram calibration"))
            continue
        require_columns(
            raw,
            ["cohort", "horizon", "mean_predicted", "observed"],
            f"{name}.calibration",
            "Calibration",
            pipeline="nomogram",
        )
        require_columns(
            summary,
            ["cohort", "horizon", "rmse"],
            f"{name}.calibration_summary",
            "Calibration",
            pipeline="nomogram",
        )
        cal = raw.assign(model=raw.get("model", name))
        curves.append(cal)
        summaries.append(summary.assign(model=summary.get("model", name)))
        for r in summary.itertuples(index=False):
            rmse[(cal["model"].iloc[0], float(r.horizon), r.cohort)] = r.rmse
    if curves:
        cal = pd.concat(curves, ignore_index=True)
        cal["horizon"] = cal["horizon"].astype(float)
        fig = plots.calibration_figure(
            cal,
            plots.CalibrationColumns(
                time="horizon",
                predicted="mean_predicted",
                lower="observed_ci_lower",
                upper="observed_ci_upper",
            ),
            rmse=rmse,
        )
        sec.table(
            pd.concat(summaries, ignore_index=True),
            caption="RMSE between predicted and "
            "observed (Kaplan-Meier) survival over the calibration groups",
        )
    else:
        fig = plots.not_available_figure("Calibration")
    sec.figure(
        fig,
        name="calibration",
        caption="Predicted survival (quantile groups) vs "
        "Kaplan-Meier observed survival with 95% CI; dashed: perfect calibration. Groups "
        "whose KM estimate is not estimable at the horizon are not drawn (Fig 4C).",
    )
    return {"calibration": fig}, sec


def risk_groups_section(
    km: pd.DataFrame, summary: pd.DataFrame, *, cohorts: Mapping[str, str], at_risk_every: float
) -> tuple[Figures, Section]:
    """Risk-group KM curves with log-rank P per cohort (paper Fig 2C/D), from the nomogram
    pipeline's ``risk_group_km`` (KM tables) and ``risk_group_summary``.
    ``cohorts``: figure key (``training``/``validation``) -> cohort value in the tables."""
    require_columns(
        summary, ["cohort", "logrank_p"], "risk_group_summary", "Risk groups", pipeline="nomogram"
    )
    require_columns(
        km,
        ["cohort", "risk_group", "time", "survival", "n_at_risk"],
        "risk_group_km",
        "Risk groups",
        pipeline="nomogram",
    )
    sec = Section("risk_groups", "Risk groups")
    model = str(summary["model"].iloc[0]) if "model" in summary and len(summary) else "?"
    cut = summary["lp_cutoff"].iloc[0] if "lp_cutoff" in summary and len(summary) else np.nan
    sec.text(
        f"High vs low risk at the training median linear predictor of the {model} "
        f"nomogram (cut-off {cut:.3f}), applied unchanged to validation."
    )
    figs: Figures = {}
    for key, value in cohorts.items():
        row = summary[summary["cohort"] == value]
        curves = km[km["cohort"] == value]
        name = f"risk_groups_{key}"
        if curves.empty:
            figs[name] = plots.not_available_figure(
                f"Risk groups, {value} cohort", "no event in either risk group"
            )
        else:
            sizes = {
                g: int(row[f"n_{g}"].iloc[0])
                for g in ("low", "high")
                if f"n_{g}" in row and len(row)
            }
            axes = plots.KMAxes(
                title=f"Risk groups, {value} cohort",
                survival_label="OS probability",
                at_risk_every=at_risk_every,
                group_order=["low", "high"],
            )
            figs[name] = plots.km_table_figure(
                curves,
                group_col="risk_group",
                axes=axes,
                p_value=float(row["logrank_p"].iloc[0]) if len(row) else None,
                group_sizes=sizes,
            )
        sec.figure(
            figs[name],
            name=name,
            caption=f"Kaplan-Meier OS of the {model} nomogram's "
            f"risk groups, {value} cohort, with numbers at risk and log-rank P "
            "(Fig 2C/D). A group without any death has no curve.",
        )
    cols = [
        c
        for c in (
            "model",
            "cohort",
            "n_low",
            "n_high",
            "median_low",
            "median_high",
            "hr_high_vs_low",
            "hr_ci_lower",
            "hr_ci_upper",
            "hr_p_value",
            "logrank_p",
        )
        if c in summary
    ]
    sec.table(
        _pretty_p(summary[cols], ["hr_p_value", "logrank_p"]),
        caption="Risk groups: sizes, median OS (months), HR high vs low, log-rank P",
    )
    return figs, sec


SMOOTH_CALIBRATION_COLUMNS = (
    "model",
    "cohort",
    "horizon",
    "n",
    "n_events_by_horizon",
    "slope",
    "slope_ci_lower",
    "slope_ci_upper",
    "oe_ratio",
    "oe_ci_lower",
    "oe_ci_upper",
    "ici",
    "e50",
    "e90",
    "emax",
    "note",
)


def smooth_calibration_section(
    models: Mapping[str, tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]],
) -> tuple[Figures, Section]:
    """Calibration slope, O/E and ICI/E50/E90 with the smoothed calibration curve (Austin,
    Harrell & van Klaveren 2020). ``models``: name -> (``calibration`` (grouped points),
    ``calibration_metrics``, ``calibration_curve``) of the nomogram pipeline."""
    sec = Section("calibration_smooth", "Calibration slope, O/E and smoothed calibration (ICI)")
    curves, points, tables, ici = [], [], [], {}
    for name, (grouped, metrics, curve) in models.items():
        if not (is_available(metrics) and is_available(curve)):
            sec.text(
                unavailable_note(metrics, f"{name.capitalize()} nomogram smoothed calibration")
            )
            continue
        require_columns(
            metrics,
            ["cohort", "horizon", "slope", "oe_ratio", "ici"],
            f"{name}.calibration_metrics",
            "Smoothed calibration",
            pipeline="nomogram",
        )
        require_columns(
            curve,
            ["cohort", "horizon", "predicted_risk", "observed_risk", "ci_lower", "ci_upper"],
            f"{name}.calibration_curve",
            "Smoothed calibration",
            pipeline="nomogram",
        )
        model = metrics["model"].iloc[0] if "model" in metrics else name
        curves.append(curve.assign(model=curve.get("model", model)))
        tables.append(metrics.assign(model=metrics.get("model", model)))
        for r in metrics.itertuples(index=False):
            ici[(model, float(r.horizon), r.cohort)] = r.ici
        if is_available(grouped) and {"mean_predicted", "observed"} <= set(grouped):
            points.append(
                grouped.assign(
                    model=grouped.get("model", model),
                    predicted_risk=1 - grouped["mean_predicted"],
                    observed_risk=1 - grouped["observed"],
                )
            )
    if curves:
        curve = pd.concat(curves, ignore_index=True)
        curve["horizon"] = curve["horizon"].astype(float)
        pts = pd.concat(points, ignore_index=True) if points else None
        if pts is not None:
            pts["horizon"] = pts["horizon"].astype(float)
        fig = plots.smooth_calibration_figure(curve, pts, ici=ici)
        table = pd.concat(tables, ignore_index=True)
        sec.table(
            table[[c for c in SMOOTH_CALIBRATION_COLUMNS if c in table]].round(3),
            caption="Calibration slope (1 = ideal; < 1: predictions too extreme) with "
            "95% CI, observed/expected risk at the horizon (O/E, 1 = ideal; > 1: risk "
            "under-predicted) with 95% CI, and ICI / E50 / E90 / Emax: mean, median, 90th "
            "percentile and maximum of |observed - predicted| risk over patients, from "
            "the smoothed curve (lower = better)",
        )
    else:
        fig = plots.not_available_figure("Smoothed calibration")
    sec.figure(
        fig,
        name="calibration_smooth",
        caption="Observed vs predicted risk of death by the horizon: smoothed curve "
        "(Cox model on a restricted cubic spline of log(-log predicted survival)) with "
        "its 95% bootstrap band, and the grouped Kaplan-Meier points of the calibration "
        "section; dashed: perfect calibration.",
    )
    return {"calibration_smooth": fig}, sec


#: Thresholds whose net benefit the decision-curve table lists (when on the grid).
DCA_TABLE_THRESHOLDS = (0.1, 0.2, 0.3, 0.4, 0.5)


def _useful_range(panel: pd.DataFrame, strategy: str) -> str:
    """Thresholds where ``strategy`` beats both treat-all and treat-none, as "lo-hi"."""
    nb = panel.pivot_table(index="threshold", columns="strategy", values="net_benefit")
    if strategy not in nb:
        return ""
    refs = nb[[c for c in ("treat_all", "treat_none") if c in nb]].max(axis=1)
    better = nb.index[(nb[strategy] > refs + 1e-12).to_numpy()]
    return f"{better.min():.2f}-{better.max():.2f}" if len(better) else "none"


def decision_curves_section(dca: pd.DataFrame) -> tuple[Figures, Section]:
    """Decision curves (net benefit vs threshold) of both nomograms with treat-all /
    treat-none, per cohort and horizon, and the net benefit at a few thresholds."""
    sec = Section("decision_curves", "Decision curve analysis")
    if not is_available(dca):
        return _say_unavailable(sec, dca, "Decision curves", "decision_curves"), sec
    require_columns(
        dca,
        ["cohort", "horizon", "strategy", "threshold", "net_benefit"],
        "decision_curves",
        "Decision curves",
        pipeline="nomogram",
    )
    sec.text(
        "Net benefit of treating the patients whose predicted risk of death by the horizon "
        "(1 - predicted survival; higher = worse) reaches the threshold probability, "
        "with Kaplan-Meier event rates among them (survival decision curves, Vickers et "
        "al. 2008). A model helps at the thresholds where its curve lies above both "
        "treat-all and treat-none."
    )
    fig = plots.decision_curve_figure(dca)
    sec.figure(
        fig,
        name="decision_curves",
        caption="Net benefit vs threshold probability per "
        "cohort (rows) and horizon (columns); dashed grey: treat all; dotted: treat none.",
    )
    keep = [t for t in DCA_TABLE_THRESHOLDS if np.isclose(dca["threshold"], t).any()]
    rows = []
    for (g, h), panel in dca.groupby(["cohort", "horizon"], sort=False):
        for s, cur in panel[panel["strategy"] != "treat_none"].groupby("strategy", sort=False):
            row = {"cohort": g, "horizon": h, "strategy": s}
            for t in keep:
                at = cur.loc[np.isclose(cur["threshold"], t), "net_benefit"]
                row[f"NB at {t:g}"] = float(at.iloc[0]) if len(at) else np.nan
            if s != "treat_all":
                row["beats both references at thresholds"] = _useful_range(panel, s)
            rows.append(row)
    sec.table(
        pd.DataFrame(rows),
        caption="Net benefit at selected threshold probabilities (decision_curves)",
        float_format="{:.3f}",
    )
    return {"decision_curves": fig}, sec


#: Reclassification measures drawn and tabulated: column value -> label.
RECLASSIFICATION_MEASURES = {
    "nri": "Continuous NRI",
    "nri_categorical": "Categorical NRI",
    "idi": "IDI",
}


def reclassification_section(rec: pd.DataFrame) -> tuple[Figures, Section]:
    """Continuous / categorical NRI and IDI of the integrated over the clinical nomogram per
    cohort and horizon with bootstrap 95% CIs (forest plot and table)."""
    sec = Section("reclassification", "Reclassification: NRI and IDI")
    if not is_available(rec):
        return _say_unavailable(
            sec,
            rec,
            "Reclassification (integrated vs clinical)",
            "reclassification",
            "Reclassification",
        ), sec
    require_columns(
        rec,
        ["cohort", "horizon", "measure", "estimate", "ci_lower", "ci_upper"],
        "reclassification",
        "Reclassification",
        pipeline="nomogram",
    )
    sec.text(
        "Integrated nomogram (clinical factors + DL signature) against the clinical "
        "nomogram, on the predicted risk of death by each horizon (higher = worse). "
        "Positive values favour the integrated nomogram. Censoring: inverse probability "
        "of censoring weights (Uno et al. 2013); CIs: bootstrap percentile."
    )
    avail = (
        rec["available"].fillna(False).astype(bool)
        if "available" in rec
        else pd.Series(True, index=rec.index)
    )
    ok = rec[avail]
    ok = ok.assign(label=[f"{g}, {h:g} mo" for g, h in zip(ok["cohort"], ok["horizon"])])
    fig = plots.reclassification_figure(ok, measures=RECLASSIFICATION_MEASURES)
    sec.figure(
        fig,
        name="reclassification",
        caption="Estimates with bootstrap 95% CIs; dotted: no improvement.",
    )
    rows = []
    for (g, h), cur in ok.groupby(["cohort", "horizon"], sort=False):
        est = cur.set_index("measure")
        row = {"cohort": g, "horizon": h}
        for c in ("n", "n_events", "n_event_free", "n_censored"):
            if c in est:
                row[c] = int(est[c].iloc[0])
        for m in ("nri", "nri_events", "nri_nonevents", "nri_categorical", "idi"):
            if m in est.index:
                e = est.loc[m]
                row[m] = f"{e['estimate']:.3f} ({e['ci_lower']:.3f} to {e['ci_upper']:.3f})"
        rows.append(row)
    sec.table(
        pd.DataFrame(rows).rename(
            columns={
                "n_events": "deaths by horizon",
                "n_event_free": "alive beyond horizon",
                "n_censored": "censored before horizon",
                "nri": "NRI (95% CI)",
                "nri_events": "NRI events",
                "nri_nonevents": "NRI non-events",
                "nri_categorical": "categorical NRI",
                "idi": "IDI (95% CI)",
            }
        ),
        caption="Continuous NRI (events + non-events components), categorical NRI and IDI "
        "of integrated vs clinical (reclassification)",
    )
    for r in rec[~avail].itertuples(index=False):
        sec.text(f"{r.cohort}, {r.horizon:g} months: not estimable ({r.note}).")
    return {"reclassification": fig}, sec


def ingest_section(
    ingest_qc: pd.DataFrame | None,
    preprocessing_qc: pd.DataFrame,
    *,
    phases: Sequence[str],
    id_col: str = "patient_id",
) -> tuple[Figures, Section]:
    """How the cohort was read from a DICOM export (``kedro run --pipelines=ingest``): series
    chosen per phase, masks found and their volume, excluded patients with problem and fix.

    ``ingest_qc`` is ``None`` when no ingest run exists (manifest written by hand). The latest
    ingest QC is shown only when it describes this run: every preprocessed patient must be an
    included patient of that QC, otherwise the manifest did not come from that ingest run.
    """
    sec = Section("ingest", "From the DICOM export (ingest)")
    if ingest_qc is None or len(ingest_qc) == 0:
        sec.text(
            "No `ingest` run recorded: the cohort manifest was given directly "
            "(docs/data_contract.md)."
        )
        return {}, sec
    require_columns(
        ingest_qc, ["patient_id", "included", "problems"], "ingest_qc", "Ingest", pipeline="ingest"
    )
    included = ingest_qc["included"].astype(str).str.lower().isin(["true", "1"])
    run_ids = set(preprocessing_qc[id_col].astype(str)) if id_col in preprocessing_qc else set()
    ingested = set(ingest_qc.loc[included, "patient_id"].astype(str))
    if not run_ids or not run_ids <= ingested:
        sec.text(
            f"The latest `ingest_qc` describes other patients than this run "
            f"({len(run_ids - ingested)} of {len(run_ids)} preprocessed patients are not "
            "among its included patients): this manifest was not written by that ingest "
            "run, so its QC is not shown."
        )
        return {}, sec
    n_excluded = int((~included).sum())
    excluded = f"{n_excluded} excluded" + (" (problems and fixes below)" if n_excluded else "")
    sec.text(
        f"{len(ingest_qc)} patients found in the export: {int(included.sum())} included, "
        f"{excluded}. Series were chosen by the rules in parameters_ingest.yml "
        "(docs/ingest.md); no UID, date or name is shown."
    )
    series = [
        c
        for p in phases
        for c in (f"{p}_series_number", f"{p}_series_description", f"{p}_slices")
        if c in ingest_qc
    ]
    volumes = [c for c in ingest_qc if c.endswith("_volume_ml")]
    cols = ["patient_id", "included", *series, "masks_found", *volumes, "notes"]
    sec.table(
        ingest_qc.loc[included, [c for c in cols if c in ingest_qc]],
        caption="Included patients: chosen series per phase, masks found, tumour volume "
        "(mL) per phase and delineation (ingest_qc)",
        float_format="{:.1f}",
    )
    if n_excluded:
        sec.table(
            ingest_qc.loc[~included, ["patient_id", "problems", "fix"]],
            caption="Excluded patients: problem and potential fix (ingest_qc)",
        )
    return {}, sec
