"""Image figures: CT crops with tumour contours, CAM overlays."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots


def min_max(a: np.ndarray) -> np.ndarray:
    """``a`` scaled to [0, 1], zeros when constant (CAM overlays, scaled per crop)."""
    span = float(np.ptp(a))
    return (a - a.min()) / span if span > 0 else a * 0


def _downsample(a: np.ndarray | None, stride: int) -> np.ndarray | None:
    if a is None:
        return None
    a = np.asarray(a)
    if a.ndim != 2:
        raise ValueError(f"expected a 2-D image, got shape {a.shape}.")
    return a[::stride, ::stride]


def _gray(img: np.ndarray, *, window: tuple[float, float] | None = None) -> go.Heatmap:
    lo, hi = window or (float(np.percentile(img, 1)), float(np.percentile(img, 99)))
    return go.Heatmap(
        z=np.round(img.astype(float), 3),
        colorscale="gray",
        zmin=lo,
        zmax=hi,
        showscale=False,
        hoverinfo="skip",
    )


def _contour(mask: np.ndarray, colour: str = "#ff3b3b") -> go.Contour:
    return go.Contour(
        z=(mask > 0).astype(np.uint8),
        contours={"start": 0.5, "end": 0.5, "size": 1, "coloring": "lines"},
        line={"color": colour, "width": 2},
        colorscale=[[0, colour], [1, colour]],
        showscale=False,
        hoverinfo="skip",
    )


def image_grid_figure(
    panels: Sequence[Sequence[dict]],
    *,
    title: str = "",
    stride: int = 2,
    cell_px: int = 230,
) -> go.Figure:
    """A grid of image panels. Each panel is a dict with ``image`` (2-D) and optional
    ``mask`` (contour drawn), ``overlay`` (heat map drawn semi-transparent, values in [0, 1])
    and ``title``.
    """
    n_rows, n_cols = len(panels), max(len(r) for r in panels)
    titles = [p.get("title", "") for r in panels for p in r]
    fig = make_subplots(
        rows=n_rows,
        cols=n_cols,
        subplot_titles=titles or None,
        horizontal_spacing=0.02,
        vertical_spacing=0.06,
    )
    for i, row in enumerate(panels, start=1):
        for j, panel in enumerate(row, start=1):
            img = _downsample(panel["image"], stride)
            fig.add_trace(_gray(img), row=i, col=j)
            overlay = _downsample(panel.get("overlay"), stride)
            if overlay is not None:
                fig.add_trace(
                    go.Heatmap(
                        z=np.round(overlay.astype(float), 3),
                        colorscale="Jet",
                        zmin=0,
                        zmax=1,
                        opacity=0.45,
                        showscale=(i, j) == (1, 1),
                        colorbar={"title": "CAM", "len": 0.5},
                    ),
                    row=i,
                    col=j,
                )
            mask = _downsample(panel.get("mask"), stride)
            if mask is not None and np.any(mask):
                fig.add_trace(_contour(mask), row=i, col=j)
    fig.update_xaxes(visible=False, constrain="domain")
    fig.update_yaxes(visible=False, autorange="reversed", scaleanchor=None)
    for i in range(1, n_rows + 1):
        for j in range(1, n_cols + 1):
            k = (i - 1) * n_cols + j
            fig.update_yaxes(scaleanchor=f"x{'' if k == 1 else k}", row=i, col=j)
    fig.update_layout(
        title=title,
        height=80 + cell_px * n_rows,
        width=None,
        margin={"l": 50, "r": 20, "t": 80, "b": 20},
        template="simple_white",
    )
    return fig
