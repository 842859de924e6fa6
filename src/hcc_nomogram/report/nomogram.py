"""Draw a Cox nomogram as a nomogram (paper Fig 4A/B).

Layout, top to bottom: a "Points" axis 0-100; one axis per factor with a tick per level at the
level's points; a "Total points" axis; one survival-probability axis per time point, whose
ticks sit at the total points that give that probability.

Inputs are plain tables so any Cox fit can be drawn:

* ``factor_points``: ``factor, level, points`` (points on the 0-100 scale; for continuous
  factors one row per labelled value).
* ``survival_by_total``: ``total_points, time, survival`` — predicted survival at each time
  point over a grid of total points (monotone in total points).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from hcc_nomogram.report.errors import ReportInputError

DEFAULT_SURVIVAL_TICKS = (0.95, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05)
TICK = 0.18  # tick length, in row units


def nice_step(span: float, target_ticks: int = 10) -> float:
    """A 1/2/5 x 10^k step that cuts ``span`` into about ``target_ticks`` intervals."""
    raw = max(span, 1e-9) / target_ticks
    mag = 10 ** np.floor(np.log10(raw))
    return float(next(m * mag for m in (1, 2, 5, 10) if m * mag >= raw))


def survival_tick_positions(
    survival_by_total: pd.DataFrame, time: float, ticks: Sequence[float] = DEFAULT_SURVIVAL_TICKS
) -> pd.DataFrame:
    """Total points at which predicted ``time``-survival equals each tick (within range)."""
    cur = survival_by_total[survival_by_total["time"] == time].sort_values("total_points")
    tp, s = cur["total_points"].to_numpy(float), cur["survival"].to_numpy(float)
    if len(cur) < 2:
        return pd.DataFrame({"survival": [], "total_points": []})
    order = np.argsort(s)  # survival decreases with total points; interp needs increasing x
    rows = [(p, float(np.interp(p, s[order], tp[order]))) for p in ticks if s.min() <= p <= s.max()]
    return pd.DataFrame(rows, columns=["survival", "total_points"])


@dataclass(frozen=True)
class _Axis:
    """One row of the nomogram: its name, tick positions (0-100 scale) and labels."""

    name: str
    xs: Sequence[float]
    labels: Sequence[str]
    colour: str = "black"
    label_above: bool = True


def _axis_row(y: float, axis: _Axis) -> list[go.Scatter]:
    name, labels, colour, label_above = axis.name, axis.labels, axis.colour, axis.label_above
    xs = np.asarray(axis.xs, dtype=float)
    lo, hi = float(np.min(xs)), float(np.max(xs))
    line_x, line_y = [lo, hi, None], [y, y, None]
    for x in xs:
        line_x += [x, x, None]
        line_y += [y, y + (TICK if label_above else -TICK), None]
    return [
        go.Scatter(
            x=line_x,
            y=line_y,
            mode="lines",
            line={"color": colour, "width": 1.5},
            hoverinfo="skip",
            showlegend=False,
            name=name,
        ),
        go.Scatter(
            x=xs,
            y=[y + (0.42 if label_above else -0.42)] * len(xs),
            mode="text",
            text=list(labels),
            textfont={"size": 11, "color": colour},
            hovertext=[f"{name}: {lab}" for lab in labels],
            hoverinfo="text",
            showlegend=False,
            name=name,
        ),
    ]


def nomogram_figure(
    factor_points: pd.DataFrame,
    survival_by_total: pd.DataFrame,
    *,
    times: Sequence[float] = (12, 24, 36),
    title: str = "Nomogram",
) -> go.Figure:
    """The nomogram as a figure; see the module docstring for the two input tables."""
    for col in ("factor", "level", "points"):
        if col not in factor_points:
            raise ReportInputError(f"factor_points needs a {col!r} column.", column=col)
    for col in ("total_points", "time", "survival"):
        if col not in survival_by_total:
            raise ReportInputError(f"survival_by_total needs a {col!r} column.", column=col)
    factors = list(pd.unique(factor_points["factor"]))
    max_total = float(factor_points.groupby("factor")["points"].max().sum())
    scale = 100.0 / max_total if max_total > 0 else 1.0  # total points -> x on the 0-100 axis
    total_step = nice_step(max_total)
    total_ticks = np.arange(0.0, max_total + 1e-9, total_step)

    traces: list[go.Scatter] = []
    labels_y: list[tuple[float, str]] = []
    y = 0.0
    traces += _axis_row(
        y, _Axis("Points", np.arange(0, 101, 10), [f"{v:g}" for v in range(0, 101, 10)])
    )
    labels_y.append((y, "Points"))
    for k, factor in enumerate(factors, start=1):
        y = -float(k)
        rows = factor_points[factor_points["factor"] == factor].sort_values("points")
        traces += _axis_row(
            y,
            _Axis(
                str(factor),
                rows["points"],
                [str(v) for v in rows["level"]],
                colour="#1f3b73",
                label_above=k % 2 == 1 or len(rows) <= 6,
            ),
        )
        labels_y.append((y, str(factor)))
    y -= 1.3
    traces += _axis_row(
        y, _Axis("Total points", total_ticks * scale, [f"{v:g}" for v in total_ticks])
    )
    labels_y.append((y, "Total points"))
    available = set(np.asarray(survival_by_total["time"], dtype=float))
    for t in times:
        if float(t) not in available:
            continue
        ticks = survival_tick_positions(survival_by_total, float(t), DEFAULT_SURVIVAL_TICKS)
        ticks = ticks[(ticks["total_points"] >= 0) & (ticks["total_points"] <= max_total)]
        if ticks.empty:
            continue
        y -= 1.0
        name = f"{float(t):g}-month OS probability"
        traces += _axis_row(
            y,
            _Axis(
                name,
                ticks["total_points"] * scale,
                [f"{v:g}" for v in ticks["survival"]],
                colour="#a11d21",
                label_above=False,
            ),
        )
        labels_y.append((y, name))

    fig = go.Figure(traces)
    for yy, text in labels_y:
        fig.add_annotation(
            x=-2, y=yy, text=f"<b>{text}</b>", showarrow=False, xanchor="right", font={"size": 12}
        )
    fig.update_xaxes(visible=False, range=[-45, 105])
    fig.update_yaxes(visible=False, range=[y - 0.8, 0.8])
    fig.update_layout(
        title=title,
        template="simple_white",
        height=90 + 48 * (len(labels_y) + 1),
        margin={"l": 20, "r": 20, "t": 60, "b": 20},
    )
    return fig
