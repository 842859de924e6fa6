"""One self-contained HTML page per new patient: predictions, warnings, survival curve, CAMs.

Figures are Plotly figures drawn with the report's helpers and embedded as static PNGs (base64,
rendered by kaleido + Chrome/Chromium like the report's PNG copies), so a page is ~100 kB,
opens offline and prints on one page; an interactive figure would inline plotly.js (~4.6 MB)
in every page. Without a browser the pages say so in place of the figures.
"""

from __future__ import annotations

import functools
import html
import logging
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from hcc_nomogram.report import static
from hcc_nomogram.report.images import image_grid_figure, min_max
from hcc_nomogram.report.provenance import weights_banner

logger = logging.getLogger(__name__)

CSS = """
body { font-family: -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif; margin: 0 auto;
       max-width: 980px; padding: 0 20px 32px; color: #222; }
h1 { margin: 16px 0 4px; font-size: 24px; } h2 { font-size: 17px; margin: 18px 0 6px;
     border-bottom: 2px solid #1f77b4; }
table { border-collapse: collapse; font-size: 13px; } td, th { border: 1px solid #ccc;
        padding: 3px 8px; text-align: left; } th { background: #e8eef7; }
.banner { background: #b00020; color: #fff; padding: 10px 14px; font-weight: 700;
          border-radius: 4px; margin: 10px 0; }
.warn { background: #fff4e5; border-left: 4px solid #ff9800; padding: 6px 12px; margin: 8px 0; }
.flag { background: #ffe0b2; font-weight: 700; }
.row { display: flex; gap: 16px; flex-wrap: wrap; } .note { color: #555; font-size: 12px; }
@media print { body { max-width: none; } }
"""


def png_data_uri(fig: go.Figure) -> str:
    """``fig`` as an inline PNG at its own size (kaleido + Chrome/Chromium, as the report's
    static images); ``""`` without a browser (logged once per run)."""
    try:
        return static.png_data_uri(fig, width=int(fig.layout.width), height=int(fig.layout.height))
    except static.NoBrowserError as exc:
        _warn_once(f"Patient pages without figures: {exc}")
        return ""


@functools.cache
def _warn_once(message: str) -> None:
    logger.warning(message)


def survival_curve_figure(
    curve: pd.DataFrame, horizons: Sequence[float], predicted: Mapping[float, float], title: str
) -> go.Figure:
    """Predicted survival curve (step) with the horizon predictions marked."""
    marks = [(h, predicted.get(h, np.nan)) for h in horizons]
    marks = [(h, s) for h, s in marks if np.isfinite(s)]
    fig = go.Figure(
        [
            go.Scatter(
                x=curve["time"],
                y=curve["survival"],
                mode="lines",
                line={"color": "#1f77b4", "width": 2, "shape": "hv"},
            ),
            go.Scatter(
                x=[h for h, _ in marks],
                y=[s for _, s in marks],
                mode="markers+text",
                marker={"color": "#d62728", "size": 8},
                text=[f"{100 * s:.0f}%" for _, s in marks],
                textposition="top right",
            ),
        ]
    )
    fig.update_layout(
        title={"text": title, "font": {"size": 13}},
        xaxis_title="months since baseline CT",
        yaxis={"title": "predicted overall survival", "range": [0, 1.02]},
        showlegend=False,
        template="simple_white",
        width=520,
        height=340,
        margin={"l": 60, "r": 20, "t": 50, "b": 50},
    )
    return fig


def cam_figure(panels: Mapping[str, Mapping[str, np.ndarray]]) -> go.Figure:
    """Crop + tumour contour + CAM overlay (min-max scaled per phase), one column per phase
    (the report's :func:`~hcc_nomogram.report.images.image_grid_figure`)."""
    row = [
        {
            "image": np.asarray(panel["image"], float),
            "mask": panel.get("mask"),
            "overlay": min_max(np.asarray(panel["cam"], float)),
            "title": f"{phase}"
            + ("" if panel.get("has_weights", True) else " (no signature feature)"),
        }
        for phase, panel in panels.items()
    ]
    fig = image_grid_figure([row], stride=1, cell_px=260)
    fig.update_layout(width=280 * max(1, len(row)), margin={"t": 40})
    return fig


def _table(rows: Sequence[tuple[str, str, bool]]) -> str:
    body = "".join(
        f"<tr{' class=flag' if flag else ''}><th>{html.escape(k)}</th>"
        f"<td>{html.escape(v)}</td></tr>"
        for k, v, flag in rows
    )
    return f"<table>{body}</table>"


def _out_of_range_banner(prediction: Mapping) -> str:
    """The prominent notice of a patient far outside the training range (or ``""``)."""
    if not _true(prediction.get("out_of_range")):
        return ""
    status = str(prediction.get("prediction_status", ""))
    verdict = (
        "NO PREDICTION GIVEN"
        if status.startswith("refused")
        else "PREDICTION FLAGGED - NOT RELIABLE"
    )
    return (
        f'<div class="banner" role="alert">&#9888; {verdict}: this patient lies far outside '
        "the training data ("
        f"{html.escape(str(prediction.get('out_of_range_reasons', '')))}). The models "
        "extrapolate here; check the image, the mask and the inputs "
        "(predict.on_out_of_range, docs/predict.md).</div>"
    )


def _true(value) -> bool:
    """A boolean that may come back from a CSV as text."""
    return str(value).strip().lower() in ("true", "1") if isinstance(value, str) else bool(value)


def _number(value, fmt: str, scale: float = 1.0, suffix: str = "") -> str:
    """``value`` formatted, or "withheld" for a refused prediction (NaN)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return "withheld"
    return "withheld" if not np.isfinite(number) else f"{scale * number:{fmt}}{suffix}"


def _result_rows(prediction: Mapping, horizons: Sequence[float]) -> list[tuple[str, str, bool]]:
    """The prediction table: risk group, points, survival per horizon, signature."""
    return [
        (
            "Risk group (training cut-off)",
            f"{prediction['risk_group']} risk "
            f"(integrated LP {_number(prediction['linear_predictor'], '.3f')} vs cut-off "
            f"{prediction['lp_cutoff']:.3f})",
            _true(prediction.get("out_of_range")),
        ),
        ("Nomogram total points", _number(prediction["total_points"], ".1f"), False),
        *[
            (
                f"Predicted survival at {h:g} months",
                _number(prediction[f"surv_{h:g}"], ".1f", 100.0, "%"),
                False,
            )
            for h in horizons
        ],
        (
            "DL signature score (rescaled, training 0-1)",
            f"{prediction['signature_score']:.3f}",
            bool(prediction.get("signature_out_of_range")),
        ),
        ("DL signature linear predictor (raw)", f"{prediction['signature_lp']:.4f}", False),
    ]


def _image(src: str | None, alt: str, withheld: str) -> str:
    """An inline PNG; ``withheld`` when ``src`` is ``None``; a note when it is ``""`` (no
    browser rendered it)."""
    if src is None:
        return f"<p>{withheld}</p>"
    if not src:
        return (
            f'<p class="note">The {alt} is not shown: no Chrome/Chromium on this machine '
            f"to render it ({static.BROWSER_FIX}).</p>"
        )
    return f'<img alt="{alt}" src="{src}">'


def patient_page(  # noqa: PLR0913  one keyword per part of the page (predict/nodes.py names them)
    prediction: Mapping,
    clinical_rows: Sequence[tuple[str, str, bool]],
    *,
    survival_png: str | None,
    cam_png: str | None,
    provenance: Mapping,
    model_info: Mapping[str, str],
    horizons: Sequence[float],
) -> str:
    """The HTML page of one patient (a complete document). ``survival_png`` is ``None`` when the
    prediction was refused (out of range), ``cam_png`` when the patient has no CAMs; either is
    ``""`` when no browser rendered it (:func:`png_data_uri`)."""
    pid = html.escape(str(prediction["patient_id"]))
    banner = weights_banner(provenance)
    warnings = [w for w in str(prediction.get("warnings") or "").split("; ") if w]
    parts = [
        f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>HCC nomogram: "
        f"patient {pid}</title><style>{CSS}</style></head><body>",
        f'<div class="banner" role="alert">&#9888; {html.escape(banner)}</div>' if banner else "",
        f"<h1>Patient {pid}: predicted overall survival</h1>",
        _out_of_range_banner(prediction),
        '<p class="note">Integrated nomogram (clinical factors + deep learning signature), Zhang '
        "et al., Front. Oncol. 2020;10:593292, reproduced with hcc-nomogram. Higher points / "
        "linear predictor = higher hazard = worse. Research use only; not a medical device.</p>",
    ]
    if warnings:
        items = "".join(f"<li>{html.escape(w)}</li>" for w in warnings)
        parts.append(
            f'<div class="warn"><b>Warnings - interpret with caution:</b><ul>{items}</ul></div>'
        )
    parts += [
        "<h2>Prediction</h2>",
        _table(_result_rows(prediction, horizons)),
        '<div class="row"><div>',
        "<h2>Predicted survival curve</h2>",
        _image(
            survival_png,
            "survival curve",
            "Withheld: the patient lies far outside the training data.",
        ),
        "</div><div>",
        "<h2>Clinical values used</h2>",
        _table(clinical_rows),
        '<p class="note">Highlighted: outside the range seen in the training cohort.</p>',
        "</div></div>",
    ]
    if cam_png is not None:
        parts += [
            "<h2>Class activation maps (signature)</h2>",
            _image(cam_png, "class activation maps", ""),
            '<p class="note">Red contour: tumour (primary delineation). Colour: where the '
            "signature's deep features respond, scaled per image (red = higher contribution"
            " to the linear predictor).</p>",
        ]
    versions = "; ".join(f"{k}: {v}" for k, v in model_info.items())
    weights = html.escape(str(provenance.get("weights_source")))
    parts += [
        f'<p class="note">DenseNet-121 weights: {weights}'
        f" (MD5 {html.escape(str(provenance.get('file_md5')))}). Models: "
        f"{html.escape(versions)}</p>",
        "</body></html>\n",
    ]
    return "\n".join(p for p in parts if p)
