"""One self-contained HTML page per new patient: predictions, warnings, survival curve, CAMs.

Figures are static PNGs embedded as base64 (matplotlib's object API, no pyplot, no backend
switch), so a page is ~100 kB, opens offline and prints on one page.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from hcc_nomogram.report.images import min_max
from hcc_nomogram.report.provenance import weights_banner

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


def png_data_uri(fig: Figure, dpi: int = 90) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def survival_curve_figure(
    curve: pd.DataFrame, horizons: Sequence[float], predicted: Mapping[float, float], title: str
) -> Figure:
    """Predicted survival curve (step) with the horizon predictions marked."""
    fig = Figure(figsize=(5.2, 3.4))
    ax = fig.subplots()
    ax.step(curve["time"], curve["survival"], where="post", color="#1f77b4", lw=2)
    for h in horizons:
        s = predicted.get(h, np.nan)
        if np.isfinite(s):
            ax.plot([h], [s], "o", color="#d62728")
            ax.annotate(
                f"{100 * s:.0f}%", (h, s), textcoords="offset points", xytext=(4, 6), fontsize=8
            )
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("months since baseline CT")
    ax.set_ylabel("predicted overall survival")
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)
    return fig


def cam_figure(panels: Mapping[str, Mapping[str, np.ndarray]]) -> Figure:
    """Crop + tumour contour + CAM overlay (min-max scaled per phase), one column per phase."""
    fig = Figure(figsize=(3.0 * max(1, len(panels)), 3.2))
    axes = np.atleast_1d(fig.subplots(1, max(1, len(panels))))
    for ax, (phase, panel) in zip(axes, panels.items()):
        image, cam = np.asarray(panel["image"], float), np.asarray(panel["cam"], float)
        lo, hi = np.percentile(image, [1, 99])
        ax.imshow(image, cmap="gray", vmin=lo, vmax=hi)
        ax.imshow(min_max(cam), cmap="jet", alpha=0.4, vmin=0, vmax=1)
        mask = panel.get("mask")
        if mask is not None and np.any(mask):
            ax.contour(np.asarray(mask) > 0, levels=[0.5], colors="#ff3b3b", linewidths=1)
        ax.set_title(
            f"{phase}" + ("" if panel.get("has_weights", True) else " (no signature feature)"),
            fontsize=9,
        )
        ax.axis("off")
    return fig


def _table(rows: Sequence[tuple[str, str, bool]]) -> str:
    body = "".join(
        f"<tr{' class=flag' if flag else ''}><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>"
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


def patient_page(
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
    prediction was refused (out of range)."""
    pid = html.escape(str(prediction["patient_id"]))
    banner = weights_banner(provenance)
    warnings = [w for w in str(prediction.get("warnings") or "").split("; ") if w]
    result = [
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
        _table(result),
        '<div class="row"><div>',
        "<h2>Predicted survival curve</h2>",
        f'<img alt="survival curve" src="{survival_png}">'
        if survival_png
        else "<p>Withheld: the patient lies far outside the training data.</p>",
        "</div><div>",
        "<h2>Clinical values used</h2>",
        _table(clinical_rows),
        '<p class="note">Highlighted: outside the range seen in the training cohort.</p>',
        "</div></div>",
    ]
    if cam_png:
        parts += [
            "<h2>Class activation maps (signature)</h2>",
            f'<img alt="class activation maps" src="{cam_png}">',
            '<p class="note">Red contour: tumour (primary delineation). Colour: where the '
            "signature's deep features respond, scaled per image (red = higher contribution"
            " to the linear predictor).</p>",
        ]
    versions = "; ".join(f"{k}: {v}" for k, v in model_info.items())
    parts += [
        f'<p class="note">DenseNet-121 weights: {html.escape(str(provenance.get("weights_source")))}'
        f" (MD5 {html.escape(str(provenance.get('file_md5')))}). Models: "
        f"{html.escape(versions)}</p>",
        "</body></html>\n",
    ]
    return "\n".join(p for p in parts if p)
