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

from hcc_nomogram.report import images, plots
from hcc_nomogram.report.errors import require_columns, require_input
from hcc_nomogram.report.html import Section
from hcc_nomogram.report.nomogram import nomogram_figure
from hcc_nomogram.report.survival import format_p, logrank_p

Figures = dict[str, go.Figure]


def cohort_section(clinical: pd.DataFrame, contract: Mapping[str, Any], *,
                   at_risk_every: float = 12.0, table_1: pd.DataFrame | None = None
                   ) -> tuple[Figures, Section]:
    """Table 1 and KM curves of OS and PFS, training vs validation (paper Fig 2A/B)."""
    outcomes = contract["outcomes"]
    cohort_col = contract["cohort_column"]
    cols = [cohort_col] + [c for o in outcomes.values() for c in (o["time"], o["event"])]
    require_columns(clinical, cols, "clinical_table", "Cohort")
    order = [contract["training_value"], contract["validation_value"]]
    sec = Section("cohort", "Cohort")
    counts = clinical[cohort_col].value_counts()
    sec.text(", ".join(f"{g}: {int(counts.get(g, 0))} patients" for g in order) + ".")
    if table_1 is not None:
        sec.table(table_1, caption="Table 1. Patient characteristics by cohort")
    figs: Figures = {}
    for name, o in outcomes.items():
        fig = plots.km_figure(
            clinical[o["time"]], clinical[o["event"]], clinical[cohort_col],
            title=f"{name.upper()}: training vs validation", at_risk_every=at_risk_every,
            group_order=order, show_logrank=True,
            survival_label=f"{name.upper()} probability",
        )
        figs[f"km_{name}"] = fig
        sec.figure(fig, name=f"km_{name}",
                   caption=f"Kaplan-Meier {name.upper()} by cohort with numbers at risk (Fig 2A/B).")
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


def preprocessing_section(qc: pd.DataFrame, crops: Mapping[str, Callable | Mapping], *,
                          phases: Sequence[str], delineation: str, n_patients: int = 3,
                          stride: int = 2, id_col: str = "patient_id") -> tuple[Figures, Section]:
    """Registration before/after and sample crops with tumour contours."""
    require_columns(qc, [id_col], "preprocessing_qc", "Preprocessing QC")
    require_input(crops, "preprocessed_crops", "Preprocessing QC")
    sec = Section("preprocessing", "Preprocessing quality control")
    n_excl = int(qc["excluded"].astype(bool).sum()) if "excluded" in qc else 0
    sec.text(f"{len(qc)} patients checked, {n_excl} excluded.")
    if n_excl:
        cols = [c for c in (id_col, "exclusion_reason") if c in qc]
        sec.table(qc.loc[qc["excluded"].astype(bool), cols], caption="Excluded patients")
    figs: Figures = {}
    if {"registration_metric_before", "registration_metric_after"} <= set(qc.columns):
        figs["registration"] = plots.registration_metric_figure(qc)
        sec.figure(figs["registration"], name="registration",
                   caption="Arterial-to-portal registration: metric per patient before vs after.")
    pids = sample_patients(list(crops), n_patients)
    panels = []
    for pid in pids:
        arrays = _load(crops, pid)
        panels.append([
            {"image": arrays[f"{ph}__{delineation}__image"],
             "mask": arrays.get(f"{ph}__{delineation}__mask"), "title": f"{pid} {ph}"}
            for ph in phases
        ])
    figs["sample_crops"] = images.image_grid_figure(
        panels, title="Sample crops with tumour contour (reader 1, first read)", stride=stride)
    sec.figure(figs["sample_crops"], name="sample_crops",
               caption="224x224 z-scored crops of the representative slice; red: tumour mask.")
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


def reproducibility_section(icc_tables: Mapping[str, pd.DataFrame], *, threshold: float
                            ) -> tuple[Figures, Section]:
    """ICC distribution per phase and how many features passed."""
    icc, cols = icc_long(icc_tables)
    sec = Section("reproducibility", "Feature reproducibility")
    passed = icc.groupby("phase").apply(
        lambda d: int(d["reproducible"].sum()) if "reproducible" in d else
        int((d[cols] > threshold).all(axis=1).sum()), include_groups=False)
    summary = pd.DataFrame({"phase": passed.index, "features": icc.groupby("phase").size().values,
                            f"reproducible (all ICC > {threshold:g})": passed.values})
    sec.table(summary, caption="Reproducible deep features per phase")
    fig = plots.icc_histogram(icc, threshold=threshold, icc_columns=cols)
    sec.figure(fig, name="icc", caption="ICC(2,1) intra- and inter-reader; dashed: threshold.")
    return {"icc": fig}, sec


def signature_section(weights: pd.DataFrame, cv: pd.DataFrame | None, metrics: pd.DataFrame, *,
                      feature_col: str, weight_col: str, cv_x: str | None, cv_mean: str | None,
                      cv_sd: str | None, selected_x: float | None,
                      metric_cols: Mapping[str, str]) -> tuple[Figures, Section]:
    """Selected features and weights, CV curve, C-index with CI per cohort."""
    require_columns(weights, [feature_col, weight_col], "signature_weights", "Signature")
    require_columns(metrics, list(metric_cols.values()), "signature_metrics", "Signature")
    sec = Section("signature", "Deep learning signature")
    figs: Figures = {"signature_weights": plots.signature_weights_figure(
        weights, feature_col=feature_col, weight_col=weight_col)}
    sec.figure(figs["signature_weights"], name="signature_weights",
               caption="Elastic-net Cox coefficients of the selected features (> 0: worse).")
    if cv is not None and cv_x and cv_mean:
        require_columns(cv, [cv_x, cv_mean], "signature_cv_results", "Signature")
        figs["signature_cv"] = plots.cv_curve_figure(cv, x_col=cv_x, mean_col=cv_mean,
                                                     sd_col=cv_sd, selected_x=selected_x)
        sec.figure(figs["signature_cv"], name="signature_cv")
    renamed = metrics.rename(columns={v: k for k, v in metric_cols.items()})
    figs["signature_cindex"] = plots.cindex_figure(renamed.assign(model="signature")
                                                   if "model" not in renamed else renamed)
    sec.figure(figs["signature_cindex"], name="signature_cindex")
    sec.table(metrics, caption="Signature performance")
    return figs, sec


def cam_section(panels: Sequence[Sequence[dict]], *, weights_source: str, stride: int = 2
                ) -> tuple[Figures, Section]:
    """Class activation heat maps over the AP and PVP crops (paper Fig 3)."""
    require_input(panels, "preprocessed_crops", "Class activation maps")
    sec = Section("cam", "Class activation maps")
    if weights_source == "random":
        sec.html('<p class="section-error">These maps come from RANDOM DenseNet weights: '
                 "they do not show what an ImageNet network attends to.</p>")
    fig = images.image_grid_figure(panels, title="Signature class activation maps", stride=stride)
    sec.figure(fig, name="cam", caption="Heat map: contribution of each region to the signature "
               "(higher = worse), min-max scaled per crop; red line: tumour.")
    return {"cam": fig}, sec


def nomogram_figures(points: pd.DataFrame, scale: pd.DataFrame, *, model: str,
                     times: Sequence[float]) -> go.Figure:
    """Adapter from ``NomogramModel.points_table()`` / ``survival_scale()`` to the drawing."""
    fp = points.rename(columns={"label": "factor"})[["factor", "level", "points"]]
    surv_cols = [c for c in scale.columns if c.startswith("surv_")]
    long = scale.melt(id_vars=["total_points"], value_vars=surv_cols, var_name="time",
                      value_name="survival")
    long["time"] = long["time"].str.removeprefix("surv_").astype(float)
    return nomogram_figure(fp, long, times=times, title=f"{model.capitalize()} nomogram")


def risk_groups_section(analysis: pd.DataFrame, *, time_col: str, event_col: str,
                        group_col: str, cohort_col: str, cohorts: Sequence[str],
                        at_risk_every: float) -> tuple[Figures, Section]:
    """Risk-group KM curves with log-rank P per cohort (paper Fig 2C/D)."""
    require_columns(analysis, [time_col, event_col, group_col, cohort_col], "risk_groups",
                    "Risk groups", pipeline="nomogram")
    sec = Section("risk_groups", "Risk groups")
    figs: Figures = {}
    rows = []
    for cohort in cohorts:
        d = analysis[analysis[cohort_col] == cohort]
        if d.empty:
            continue
        p = logrank_p(d[time_col], d[event_col], d[group_col])
        rows.append({"cohort": cohort, "log-rank": format_p(p)})
        fig = plots.km_figure(d[time_col], d[event_col], d[group_col], show_logrank=True,
                              title=f"Risk groups, {cohort} cohort", at_risk_every=at_risk_every)
        figs[f"risk_groups_{cohort}"] = fig
        sec.figure(fig, name=f"risk_groups_{cohort}")
    sec.table(pd.DataFrame(rows), caption="Log-rank test, high vs low risk")
    return figs, sec
