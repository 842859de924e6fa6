"""Plot functions: plain DataFrames / arrays in, :class:`plotly.graph_objects.Figure` out.

No I/O, no catalog. Colours follow the paper: training blue, validation red; risk groups
low green, high red.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from hcc_nomogram.report.survival import format_p, km_steps, logrank_p, numbers_at_risk

PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#17becf")
GROUP_COLOURS = {
    "training": "#1f77b4",
    "validation": "#d62728",
    "low": "#2ca02c",
    "low risk": "#2ca02c",
    "high": "#d62728",
    "high risk": "#d62728",
    "clinical": "#ff7f0e",
    "integrated": "#1f77b4",
    "signature": "#9467bd",
}
TEMPLATE = "simple_white"


def _colour(name, i: int) -> str:
    return GROUP_COLOURS.get(str(name).lower(), PALETTE[i % len(PALETTE)])


@dataclass(frozen=True)
class KMAxes:
    """What a Kaplan-Meier figure shows around its curves: title, axis labels, the spacing of
    the numbers-at-risk columns, the time range (``None``: the data's) and the group order
    (``None``: sorted)."""

    title: str = ""
    time_label: str = "Months"
    survival_label: str = "Survival probability"
    at_risk_every: float = 12.0
    max_time: float | None = None
    group_order: Sequence[str] | None = None

    def groups(self, present: Sequence) -> list:
        """The groups to draw, in order: ``group_order`` (or sorted), those with data."""
        order = list(self.group_order) if self.group_order is not None else sorted(present)
        return [g for g in order if g in set(present)]


def _identity_line(fig: go.Figure, *, row: int, col: int) -> None:
    """The dashed y = x line of perfect calibration in one panel."""
    line = {"dash": "dash", "color": "grey"}
    diagonal = go.Scatter(
        x=[0, 1], y=[0, 1], mode="lines", showlegend=False, line=line, hoverinfo="skip"
    )
    fig.add_trace(diagonal, row=row, col=col)


def _km_frame(
    fig: go.Figure, groups: Sequence, ticks: np.ndarray, max_time: float, axes: KMAxes
) -> None:
    """Axes and layout shared by the KM figures (curves on top, numbers at risk below)."""
    fig.update_yaxes(range=[0, 1.03], title_text=axes.survival_label, row=1, col=1)
    fig.update_yaxes(
        title_text="At risk",
        categoryorder="array",
        categoryarray=[str(g) for g in reversed(groups)],
        showline=False,
        ticks="",
        row=2,
        col=1,
    )
    fig.update_xaxes(range=[0, max_time * 1.02], tickvals=ticks, row=1, col=1)
    fig.update_xaxes(title_text=axes.time_label, tickvals=ticks, row=2, col=1)
    fig.update_layout(
        title=axes.title,
        template=TEMPLATE,
        height=520,
        legend={"x": 0.99, "xanchor": "right", "y": 0.99},
    )


def _logrank_note(fig: go.Figure, p: float) -> None:
    fig.add_annotation(
        x=0.02,
        y=0.05,
        xref="x domain",
        yref="y domain",
        showarrow=False,
        text=f"Log-rank {format_p(p)}",
        font={"size": 14},
        xanchor="left",
    )


def _at_risk_row(fig: go.Figure, group, ticks: np.ndarray, risk, colour: str) -> None:
    fig.add_trace(
        go.Scatter(
            x=ticks,
            y=[str(group)] * len(ticks),
            mode="text",
            text=[str(r) for r in risk],
            textfont={"color": colour},
            showlegend=False,
            hoverinfo="skip",
        ),
        row=2,
        col=1,
    )


def km_figure(
    time, event, group, axes: KMAxes = KMAxes(), *, show_logrank: bool = False
) -> go.Figure:
    """Kaplan-Meier curves per group with a numbers-at-risk table below (paper Fig 2).

    ``time``, ``event`` (1 = event, 0 = censored) and ``group`` are equal-length arrays.
    With ``show_logrank`` the log-rank P across groups is printed on the plot.
    """
    time = np.asarray(time, dtype=float)
    event = np.asarray(event).astype(int)
    group = np.asarray(group).astype(str)
    groups = axes.groups(list(pd.unique(group)))
    if not groups:
        raise ValueError("km_figure: no patients in any group.")
    max_time = float(axes.max_time or np.nanmax(time))
    ticks = np.arange(0.0, max_time + 1e-9, axes.at_risk_every)

    fig = make_subplots(
        rows=2, cols=1, row_heights=[0.78, 0.22], shared_xaxes=True, vertical_spacing=0.08
    )
    for i, g in enumerate(groups):
        sel = group == g
        steps = km_steps(time[sel], event[sel])
        colour = _colour(g, i)
        fig.add_trace(
            go.Scatter(
                x=steps["time"],
                y=steps["survival"],
                mode="lines",
                line_shape="hv",
                line={"color": colour, "width": 2},
                name=f"{g} (n={int(sel.sum())})",
                legendgroup=g,
            ),
            row=1,
            col=1,
        )
        censored = sel & (event == 0)
        if censored.any():
            idx = np.searchsorted(steps["time"].to_numpy(), time[censored], side="right") - 1
            s_at = steps["survival"].to_numpy()[np.clip(idx, 0, None)]
            fig.add_trace(
                go.Scatter(
                    x=time[censored],
                    y=s_at,
                    mode="markers",
                    marker={"symbol": "line-ns-open", "size": 8, "color": colour},
                    showlegend=False,
                    legendgroup=g,
                    hoverinfo="skip",
                ),
                row=1,
                col=1,
            )
        _at_risk_row(fig, g, ticks, numbers_at_risk(time[sel], ticks), colour)
    if show_logrank and len(groups) > 1:
        keep = np.isin(group, groups)
        _logrank_note(fig, logrank_p(time[keep], event[keep], group[keep]))
    _km_frame(fig, groups, ticks, max_time, axes)
    return fig


def icc_histogram(
    icc: pd.DataFrame,
    *,
    threshold: float,
    icc_columns: Sequence[str],
    title: str = "Feature reproducibility (ICC)",
) -> go.Figure:
    """ICC distribution per phase and ICC type with the threshold line.

    ``icc`` has a ``phase`` column plus one column per ICC type (e.g. ``icc_intra``,
    ``icc_inter``); a feature passes when every ICC column is >= ``threshold``.
    """
    phases = list(pd.unique(icc["phase"]))
    passing = (icc[list(icc_columns)] >= threshold).all(axis=1)
    fig = make_subplots(
        rows=1,
        cols=len(phases),
        subplot_titles=[
            f"{ph}: {int(passing[icc['phase'] == ph].sum())}"
            f" of {int((icc['phase'] == ph).sum())} features pass"
            for ph in phases
        ],
    )
    for j, ph in enumerate(phases, start=1):
        sub = icc[icc["phase"] == ph]
        for i, col in enumerate(icc_columns):
            fig.add_trace(
                go.Histogram(
                    x=sub[col],
                    name=col,
                    xbins={"start": 0, "end": 1.0001, "size": 0.025},
                    marker_color=PALETTE[i],
                    opacity=0.6,
                    showlegend=j == 1,
                    legendgroup=col,
                ),
                row=1,
                col=j,
            )
        fig.add_vline(x=threshold, line_dash="dash", line_color="black", row=1, col=j)
        fig.update_xaxes(
            title_text="ICC",
            range=[min(0.0, float(sub[list(icc_columns)].min().min())), 1.0],
            row=1,
            col=j,
        )
    fig.update_yaxes(title_text="Features", row=1, col=1)
    fig.update_layout(barmode="overlay", title=title, template=TEMPLATE, height=420)
    return fig


def signature_weights_figure(
    weights: pd.DataFrame,
    *,
    feature_col: str = "feature",
    weight_col: str = "coefficient",
    title: str = "Deep learning signature: selected features",
) -> go.Figure:
    """Horizontal bar chart of the selected features' Cox coefficients (higher = worse)."""
    w = weights[[feature_col, weight_col]].copy()
    w = w[w[weight_col] != 0].sort_values(weight_col)
    fig = go.Figure(
        go.Bar(
            x=w[weight_col],
            y=w[feature_col],
            orientation="h",
            marker_color=np.where(w[weight_col] > 0, "#d62728", "#1f77b4"),
        )
    )
    fig.update_layout(
        title=f"{title} ({len(w)})",
        template=TEMPLATE,
        xaxis_title="Coefficient (log hazard per SD; > 0 = worse)",
        height=max(300, 22 * len(w) + 120),
    )
    return fig


@dataclass(frozen=True)
class CVColumns:
    """Columns of a cross-validation table: the penalty (``x``), the mean score, its SD, the
    flag of the selected row, and the columns whose combinations get one line each."""

    x: str
    mean: str
    sd: str | None = None
    selected: str | None = None
    groups: Sequence[str] = ()


def cv_curve_figure(
    cv: pd.DataFrame,
    columns: CVColumns,
    *,
    selected_x: float | None = None,
    log_x: bool = True,
    title: str = "Elastic-net penalty: cross-validation",
) -> go.Figure:
    """Cross-validation curve(s) over the penalty, with the chosen configuration marked.

    One line per combination of ``columns.groups`` (e.g. ``k, l1_ratio`` of the signature
    grid); the mean +/- SD band is drawn for the group holding the selected row
    (``columns.selected`` True) or, without groups, for the single curve. ``selected_x`` adds
    a dashed line.
    """
    x_col, mean_col, sd_col = columns.x, columns.mean, columns.sd
    selected_col = columns.selected
    groups = [c for c in columns.groups if c in cv]
    cv = cv.sort_values(groups + [x_col])
    chosen = (
        cv[cv[selected_col].astype(bool)] if selected_col and selected_col in cv else cv.iloc[:0]
    )
    fig = go.Figure()
    parts = list(cv.groupby(groups, sort=False)) if groups else [((), cv)]
    for i, (raw_key, sub) in enumerate(parts):
        key = raw_key if isinstance(raw_key, tuple) else (raw_key,)
        is_chosen = not groups or (
            not chosen.empty and all(chosen.iloc[0][c] == v for c, v in zip(groups, key))
        )
        name = (
            ", ".join(
                f"{c}={v:g}" if isinstance(v, int | float) else f"{c}={v}"
                for c, v in zip(groups, key)
            )
            or "mean"
        )
        colour = PALETTE[i % len(PALETTE)]
        if sd_col is not None and sd_col in sub and is_chosen:
            fig.add_trace(
                go.Scatter(
                    x=np.r_[sub[x_col], sub[x_col][::-1]],
                    y=np.r_[sub[mean_col] + sub[sd_col], (sub[mean_col] - sub[sd_col])[::-1]],
                    fill="toself",
                    fillcolor="rgba(31,119,180,0.15)",
                    line={"width": 0},
                    name=f"± 1 SD ({name})" if groups else "± 1 SD",
                    hoverinfo="skip",
                )
            )
        fig.add_trace(
            go.Scatter(
                x=sub[x_col],
                y=sub[mean_col],
                mode="lines+markers",
                name=name,
                line={"color": colour, "width": 3 if is_chosen and groups else 1.5},
                marker={"size": 4},
            )
        )
    if not chosen.empty:
        row = chosen.iloc[0]
        fig.add_trace(
            go.Scatter(
                x=[row[x_col]],
                y=[row[mean_col]],
                mode="markers",
                marker={"symbol": "star", "size": 16, "color": "#d62728"},
                name=f"selected ({x_col}={row[x_col]:.3g}, C={row[mean_col]:.3f})",
            )
        )
    if selected_x is not None and np.isfinite(selected_x):
        fig.add_vline(
            x=np.log10(selected_x) if log_x else selected_x,
            line_dash="dash",
            annotation_text=f"selected {selected_x:.3g}",
        )
    fig.update_layout(
        title=title,
        template=TEMPLATE,
        height=440,
        xaxis_title=x_col,
        yaxis_title="Cross-validated C-index",
    )
    if log_x:
        fig.update_xaxes(type="log")
    return fig


def cindex_figure(
    metrics: pd.DataFrame,
    *,
    title: str = "C-index (95% CI)",
) -> go.Figure:
    """Point-and-whisker plot of C-index with CI, one marker per model and cohort (columns
    ``model``, ``cohort``, ``c_index``, ``ci_lower``, ``ci_upper``)."""
    fig = go.Figure()
    for i, (cohort, sub) in enumerate(metrics.groupby("cohort", sort=False)):
        fig.add_trace(
            go.Scatter(
                x=sub["c_index"],
                y=sub["model"],
                mode="markers",
                name=str(cohort),
                marker={"size": 11, "color": _colour(cohort, i)},
                error_x={
                    "type": "data",
                    "symmetric": False,
                    "array": sub["ci_upper"] - sub["c_index"],
                    "arrayminus": sub["c_index"] - sub["ci_lower"],
                },
            )
        )
    fig.add_vline(x=0.5, line_dash="dot", line_color="grey")
    fig.update_layout(
        title=title,
        template=TEMPLATE,
        xaxis_title="C-index",
        height=max(280, 60 * metrics["model"].nunique() + 160),
        scattermode="group",
    )
    return fig


@dataclass(frozen=True)
class CalibrationColumns:
    """Columns of a calibration table: one panel per ``panel``, one line per ``line`` (and
    ``time``, when present), predicted vs observed survival, the observed CI (``None``: none)."""

    panel: str = "cohort"
    line: str = "model"
    time: str | None = "time"
    predicted: str = "predicted"
    observed: str = "observed"
    lower: str | None = "lower"
    upper: str | None = "upper"


def calibration_figure(
    cal: pd.DataFrame,
    columns: CalibrationColumns = CalibrationColumns(),
    *,
    rmse: Mapping[tuple, float] | None = None,
    title: str = "Calibration of predicted survival",
) -> go.Figure:
    """Calibration curves (predicted vs Kaplan-Meier observed), one panel per
    ``columns.panel``.

    The legend gives each curve's RMSE between predicted and observed (paper Fig 4C): taken
    from ``rmse`` (``{(line, time, panel): value}``, e.g. the nomogram's calibration summary)
    when given, else computed from the plotted points. Rows without an observed value
    (groups whose KM estimate is not estimable) are not drawn.
    """
    c = columns
    panel_col, line_col, time_col = c.panel, c.line, c.time
    predicted_col, observed_col, lower_col, upper_col = c.predicted, c.observed, c.lower, c.upper
    cal = cal.dropna(subset=[predicted_col, observed_col])
    panels = list(pd.unique(cal[panel_col]))
    fig = make_subplots(rows=1, cols=len(panels), subplot_titles=[str(p) for p in panels])
    keys = [line_col] + ([time_col] if time_col and time_col in cal else [])
    styles: dict[tuple, int] = {}
    for j, panel in enumerate(panels, start=1):
        sub = cal[cal[panel_col] == panel]
        for raw_key, group in sub.groupby(keys, sort=False):
            key = raw_key if isinstance(raw_key, tuple) else (raw_key,)
            i = styles.setdefault(key, len(styles))
            cur = group.sort_values(predicted_col)
            value = float(np.sqrt(np.mean((cur[predicted_col] - cur[observed_col]) ** 2)))
            if rmse is not None:
                value = float(rmse.get((key[0], key[1] if len(key) > 1 else None, panel), value))
            label = " ".join(
                [str(key[0])]
                + (
                    [f"{key[1]:g}-month" if isinstance(key[1], int | float) else str(key[1])]
                    if len(key) > 1
                    else []
                )
            )
            err = None
            if lower_col in cur and upper_col in cur:
                err = {
                    "type": "data",
                    "symmetric": False,
                    "array": cur[upper_col] - cur[observed_col],
                    "arrayminus": cur[observed_col] - cur[lower_col],
                    "thickness": 1,
                }
            fig.add_trace(
                go.Scatter(
                    x=cur[predicted_col],
                    y=cur[observed_col],
                    mode="lines+markers",
                    error_y=err,
                    name=f"{label} ({panel}): RMSE {value:.3f}",
                    line={"color": PALETTE[i % len(PALETTE)]},
                ),
                row=1,
                col=j,
            )
        _identity_line(fig, row=1, col=j)
        fig.update_xaxes(title_text="Predicted survival", range=[0, 1], row=1, col=j)
        fig.update_yaxes(
            title_text="Observed survival (KM)" if j == 1 else None, range=[0, 1], row=1, col=j
        )
    fig.update_layout(
        title=title, template=TEMPLATE, height=460, legend={"orientation": "h", "y": -0.2}
    )
    return fig


def time_auc_figure(
    auc: pd.DataFrame,
    *,
    title: str = "Time-dependent AUC",
) -> go.Figure:
    """Time-dependent AUC curves, one line per model, one dash style per cohort (columns
    ``time``, ``auc``, ``model`` and, optional, ``cohort``)."""
    fig = go.Figure()
    dashes = ("solid", "dash", "dot", "dashdot")
    cohorts = list(pd.unique(auc["cohort"])) if "cohort" in auc else [None]
    for (model, cohort), sub in auc.groupby(
        ["model", "cohort"] if "cohort" in auc else ["model", "model"], sort=False
    ):
        i = list(pd.unique(auc["model"])).index(model)
        fig.add_trace(
            go.Scatter(
                x=sub["time"],
                y=sub["auc"],
                mode="lines+markers",
                name=f"{model} ({cohort})" if "cohort" in auc else str(model),
                line={"color": _colour(model, i), "dash": dashes[cohorts.index(cohort) % 4]},
            )
        )
    fig.add_hline(y=0.5, line_dash="dot", line_color="grey")
    fig.update_layout(
        title=title,
        template=TEMPLATE,
        xaxis_title="Months",
        yaxis_title="AUC(t)",
        yaxis_range=[0.4, 1.0],
        height=420,
    )
    return fig


def registration_metric_figure(
    qc: pd.DataFrame,
    *,
    before_col: str = "registration_metric_before",
    after_col: str = "registration_metric_after",
    id_col: str = "patient_id",
    title: str = "Registration: similarity metric before vs after",
) -> go.Figure:
    """Per-patient registration metric before vs after (points below the diagonal improved
    when the metric is a cost, e.g. SimpleITK's negative mutual information)."""
    d = qc[[id_col, before_col, after_col]].dropna()
    lo = float(min(d[before_col].min(), d[after_col].min())) if len(d) else 0.0
    hi = float(max(d[before_col].max(), d[after_col].max())) if len(d) else 1.0
    fig = go.Figure(
        [
            go.Scatter(
                x=[lo, hi],
                y=[lo, hi],
                mode="lines",
                line={"dash": "dash", "color": "grey"},
                name="no change",
                hoverinfo="skip",
            ),
            go.Scatter(
                x=d[before_col],
                y=d[after_col],
                mode="markers",
                text=d[id_col],
                name="patients",
                marker={"color": PALETTE[0], "size": 8},
            ),
        ]
    )
    fig.update_layout(
        title=title,
        template=TEMPLATE,
        height=420,
        xaxis_title="metric before registration",
        yaxis_title="metric after registration",
    )
    return fig


def km_table_figure(
    km: pd.DataFrame,
    *,
    group_col: str,
    axes: KMAxes = KMAxes(),
    p_value: float | None = None,
    group_sizes: Mapping[str, int] | None = None,
) -> go.Figure:
    """Kaplan-Meier curves drawn from KM *tables* (columns ``time``, ``survival``,
    ``n_at_risk``: one row per event/censoring time, as ``risk_group_km``), with numbers at
    risk below and an optional log-rank P.

    Each curve starts at (0, 1). The number at risk at tick ``t`` is ``n_at_risk`` of the
    first row with time >= ``t`` (0 past the last row); before the first row it is
    ``group_sizes[group]`` when given, else the first row's ``n_at_risk``.
    """
    groups = axes.groups(list(pd.unique(km[group_col])))
    if not groups:
        raise ValueError("km_table_figure: no curve to draw.")
    max_time = float(km["time"].max())
    ticks = np.arange(0.0, max_time + 1e-9, axes.at_risk_every)
    fig = make_subplots(
        rows=2, cols=1, row_heights=[0.78, 0.22], shared_xaxes=True, vertical_spacing=0.08
    )
    for i, g in enumerate(groups):
        cur = km[km[group_col] == g].sort_values("time")
        colour = _colour(g, i)
        n0 = int((group_sizes or {}).get(g, cur["n_at_risk"].iloc[0]))
        fig.add_trace(
            go.Scatter(
                x=np.r_[0.0, cur["time"].to_numpy(float)],
                y=np.r_[1.0, cur["survival"].to_numpy(float)],
                mode="lines",
                line_shape="hv",
                line={"color": colour, "width": 2},
                name=f"{g} (n={n0})",
                legendgroup=str(g),
            ),
            row=1,
            col=1,
        )
        times = cur["time"].to_numpy(float)
        at_risk = cur["n_at_risk"].to_numpy(int)
        idx = np.searchsorted(times, ticks, side="left")
        risk = [0 if k >= len(times) else (n0 if k == 0 else int(at_risk[k])) for k in idx.tolist()]
        _at_risk_row(fig, g, ticks, risk, colour)
    if p_value is not None:
        _logrank_note(fig, p_value)
    _km_frame(fig, groups, ticks, max_time, axes)
    return fig


def not_available_figure(title: str, note: str = "") -> go.Figure:
    """A placeholder figure that says why there is nothing to draw (e.g. the integrated
    nomogram of a clinical-only run)."""
    fig = go.Figure(
        go.Scatter(
            x=[0.5],
            y=[0.5],
            mode="text",
            text=["not available"],
            textfont={"size": 20, "color": "#888"},
            hoverinfo="skip",
            showlegend=False,
        )
    )
    if note:
        fig.add_annotation(x=0.5, y=0.3, text=note, showarrow=False, font={"size": 12})
    fig.update_xaxes(visible=False, range=[0, 1])
    fig.update_yaxes(visible=False, range=[0, 1])
    fig.update_layout(title=f"{title}: not available", template=TEMPLATE, height=260)
    return fig


def smooth_calibration_figure(
    curve: pd.DataFrame,
    points: pd.DataFrame | None = None,
    *,
    ici: Mapping[tuple, float] | None = None,
    title: str = "Smoothed calibration of predicted risk",
) -> go.Figure:
    """Smoothed calibration curves with their CI band, one panel per (horizon, cohort).

    ``curve``: model, cohort, horizon, predicted_risk, observed_risk, ci_lower, ci_upper (the
    nomogram's ``calibration_curve``). ``points`` (optional): grouped points with the same
    keys and ``predicted_risk`` / ``observed_risk`` (Kaplan-Meier) columns. ``ici``:
    ``{(model, horizon, cohort): ICI}`` shown in the legend. Risk = 1 - survival at the
    horizon (higher = worse); the dashed diagonal is perfect calibration.
    """
    panels = list(curve[["horizon", "cohort"]].drop_duplicates().itertuples(index=False, name=None))
    horizons = list(pd.unique(curve["horizon"]))
    cohorts = list(pd.unique(curve["cohort"]))
    fig = make_subplots(
        rows=len(horizons),
        cols=len(cohorts),
        shared_xaxes=False,
        subplot_titles=[f"{c}, {h:g} months" for h in horizons for c in cohorts],
    )
    models = list(pd.unique(curve["model"]))
    for h, c in panels:
        row, col = horizons.index(h) + 1, cohorts.index(c) + 1
        for i, model in enumerate(models):
            colour = _colour(model, i)
            cur = curve[
                (curve["model"] == model) & (curve["horizon"] == h) & (curve["cohort"] == c)
            ].sort_values("predicted_risk")
            if cur.empty:
                continue
            first = row == 1 and col == 1
            if cur["ci_lower"].notna().all():
                fig.add_trace(
                    go.Scatter(
                        x=np.r_[cur["predicted_risk"], cur["predicted_risk"][::-1]],
                        y=np.r_[cur["ci_upper"], cur["ci_lower"][::-1]],
                        fill="toself",
                        fillcolor=colour,
                        opacity=0.18,
                        line={"width": 0},
                        hoverinfo="skip",
                        name=f"{model}: 95% band",
                        showlegend=first,
                        legendgroup=f"{model}band",
                    ),
                    row=row,
                    col=col,
                )
            label = f"{model}: smooth curve"
            if ici is not None and (model, float(h), c) in ici:
                label = f"{model} {h:g} mo ({c}): ICI {ici[(model, float(h), c)]:.3f}"
            fig.add_trace(
                go.Scatter(
                    x=cur["predicted_risk"],
                    y=cur["observed_risk"],
                    mode="lines",
                    line={"color": colour},
                    name=label,
                    legendgroup=model,
                ),
                row=row,
                col=col,
            )
            if points is not None and len(points):
                pts = points[
                    (points["model"] == model) & (points["horizon"] == h) & (points["cohort"] == c)
                ].dropna(subset=["observed_risk"])
                fig.add_trace(
                    go.Scatter(
                        x=pts["predicted_risk"],
                        y=pts["observed_risk"],
                        mode="markers",
                        marker={"color": colour, "size": 9, "symbol": "circle-open"},
                        name=f"{model}: grouped (KM)",
                        showlegend=first,
                        legendgroup=f"{model}pts",
                    ),
                    row=row,
                    col=col,
                )
        _identity_line(fig, row=row, col=col)
        fig.update_xaxes(title_text="Predicted risk", range=[0, 1], row=row, col=col)
        fig.update_yaxes(
            title_text="Observed risk" if col == 1 else None, range=[0, 1], row=row, col=col
        )
    fig.update_layout(
        title=title,
        template=TEMPLATE,
        height=380 * len(horizons) + 120,
        legend={"orientation": "h", "y": -0.12},
    )
    return fig


REFERENCE_STYLES = {
    "treat_all": {"color": "#7f7f7f", "dash": "dash"},
    "treat_none": {"color": "#000000", "dash": "dot"},
}


def decision_curve_figure(
    dca: pd.DataFrame,
    *,
    title: str = "Decision curves: net benefit",
) -> go.Figure:
    """Net benefit against threshold probability, one panel per (row, column) value (cohort x
    horizon), one line per strategy; treat-all dashed grey, treat-none dotted black. Rows
    without a net benefit (not estimable) are gaps. The y axis starts just below 0: a curve
    below the references is of no use there. Columns: ``cohort``, ``horizon``, ``strategy``,
    ``threshold``, ``net_benefit``."""
    rows = list(pd.unique(dca["cohort"]))
    cols = list(pd.unique(dca["horizon"]))
    titles = [
        f"{r}, {c:g} months" if isinstance(c, int | float) else f"{r}, {c}"
        for r in rows
        for c in cols
    ]
    fig = make_subplots(
        rows=len(rows), cols=len(cols), subplot_titles=titles, shared_xaxes=True, shared_yaxes=True
    )
    strategies = list(pd.unique(dca["strategy"]))
    top = float(np.nanmax(dca["net_benefit"].to_numpy(float))) if len(dca) else 0.5
    for i, r in enumerate(rows, start=1):
        for j, c in enumerate(cols, start=1):
            panel = dca[(dca["cohort"] == r) & (dca["horizon"] == c)]
            for k, s in enumerate(strategies):
                cur = panel[panel["strategy"] == s].sort_values("threshold")
                style = REFERENCE_STYLES.get(s, {"color": _colour(s, k), "dash": "solid"})
                fig.add_trace(
                    go.Scatter(
                        x=cur["threshold"],
                        y=cur["net_benefit"],
                        mode="lines",
                        name=str(s),
                        legendgroup=str(s),
                        showlegend=(i == 1 and j == 1),
                        line={**style, "width": 2},
                    ),
                    row=i,
                    col=j,
                )
            fig.update_xaxes(
                title_text="Threshold probability" if i == len(rows) else None,
                range=[0, 1],
                row=i,
                col=j,
            )
            fig.update_yaxes(
                title_text="Net benefit" if j == 1 else None,
                range=[-0.05, max(top, 0.05) * 1.05],
                row=i,
                col=j,
            )
    fig.update_layout(
        title=title,
        template=TEMPLATE,
        height=280 * len(rows) + 140,
        legend={"orientation": "h", "y": -0.12},
    )
    return fig


def reclassification_figure(
    rec: pd.DataFrame,
    *,
    measures: Mapping[str, str],
    title: str = "Reclassification: integrated vs clinical (95% CI)",
) -> go.Figure:
    """Forest plot, one panel per measure (``measures``: column value -> panel title), one
    row per ``label`` (e.g. cohort and horizon); dotted line at 0 (no improvement). Columns:
    ``label``, ``measure``, ``estimate``, ``ci_lower``, ``ci_upper``."""
    fig = make_subplots(
        rows=1, cols=len(measures), subplot_titles=list(measures.values()), shared_yaxes=True
    )
    labels = list(pd.unique(rec["label"]))
    for j, m in enumerate(measures, start=1):
        cur = rec[rec["measure"] == m].set_index("label").reindex(labels)
        fig.add_trace(
            go.Scatter(
                x=cur["estimate"],
                y=labels,
                mode="markers",
                showlegend=False,
                marker={"size": 10, "color": PALETTE[0]},
                error_x={
                    "type": "data",
                    "symmetric": False,
                    "array": cur["ci_upper"] - cur["estimate"],
                    "arrayminus": cur["estimate"] - cur["ci_lower"],
                },
            ),
            row=1,
            col=j,
        )
        fig.add_vline(x=0, line_dash="dot", line_color="grey", row=1, col=j)
    fig.update_yaxes(autorange="reversed")
    fig.update_layout(title=title, template=TEMPLATE, height=max(300, 40 * len(labels) + 160))
    return fig
