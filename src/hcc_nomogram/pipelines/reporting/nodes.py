"""Nodes of the `reporting` pipeline: pure functions, no I/O.

Each ``build_*_section`` node returns its figures (to ``report_<name>_figure`` datasets) and a
section (a dict, in memory) that :func:`assemble_report` turns into the single HTML report.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from hcc_nomogram.hooks import package_versions
from hcc_nomogram.report import sections
from hcc_nomogram.report.errors import require_input
from hcc_nomogram.report.html import render_report
from hcc_nomogram.report.provenance import provenance_section
from hcc_nomogram.report.settings import ReportSettings
from hcc_nomogram.report.static import figures_to_images


def _with_section(figs: dict, sec) -> dict[str, Any]:
    return {**figs, "section": sec.to_dict()}


def build_cohort_section(clinical_table: pd.DataFrame, data_contract: dict,
                         reporting: dict) -> dict[str, Any]:
    settings = ReportSettings.from_params(reporting)
    figs, sec = sections.cohort_section(clinical_table, data_contract,
                                        at_risk_every=settings.at_risk_every_months)
    return _with_section(figs, sec)


def build_preprocessing_section(preprocessing_qc: pd.DataFrame, preprocessed_crops: dict,
                                data_contract: dict, reporting: dict) -> dict[str, Any]:
    settings = ReportSettings.from_params(reporting)
    figs, sec = sections.preprocessing_section(
        preprocessing_qc, preprocessed_crops, phases=list(data_contract["phases"]),
        delineation=data_contract["primary_delineation"],
        n_patients=settings.n_example_patients, stride=settings.image_stride,
        id_col=data_contract["id_column"])
    return _with_section(figs, sec)


def build_reproducibility_section(arterial_icc_table: pd.DataFrame, portal_icc_table: pd.DataFrame,
                                  icc_settings: dict) -> dict[str, Any]:
    figs, sec = sections.reproducibility_section(
        {"arterial": arterial_icc_table, "portal": portal_icc_table},
        threshold=float(icc_settings["threshold"]))
    return _with_section(figs, sec)


def build_cam_extractor(densenet_weights_provenance: dict):
    """Rebuild the run's DenseNet-121 from its provenance (same weights as the features)."""
    from hcc_nomogram.features.densenet import build_extractor, resolve_weights

    prov = require_input(densenet_weights_provenance, "densenet_weights_provenance", "CAM")
    source = prov.get("weights_source")
    weights = "random" if source == "random" else prov.get("file") or "imagenet"
    resolved = resolve_weights(weights, seed=int(prov.get("seed") or 0),
                               input_mode=prov.get("input_mode", "replicate"))
    return build_extractor(resolved)


def compute_cam_panels(preprocessed_crops: dict, signature_weights: pd.DataFrame, extractor,
                       data_contract: dict, reporting: dict) -> list[list[dict]]:
    """CAM of a few patients' AP and PVP crops (paper Fig 3), min-max scaled per crop."""
    from hcc_nomogram.features.cam import compute_cam, signature_feature_weights

    settings = ReportSettings.from_params(reporting)
    cols = settings.signature_columns
    sections.require_columns(signature_weights, [cols["feature"], cols["weight"]],
                             "signature_weights", "Class activation maps")
    require_input(preprocessed_crops, "preprocessed_crops", "Class activation maps")
    weights = dict(zip(signature_weights[cols["feature"]], signature_weights[cols["weight"]]))
    deli = data_contract["primary_delineation"]
    panels = []
    for pid in sections.sample_patients(list(preprocessed_crops), settings.n_example_patients):
        arrays = sections._load(preprocessed_crops, pid)
        row = []
        for phase in data_contract["phases"]:
            crop = arrays[f"{phase}__{deli}__image"]
            w = signature_feature_weights(weights, phase)
            cam = compute_cam(extractor, crop, w) if w else np.zeros_like(crop, dtype=float)
            span = float(np.ptp(cam))
            row.append({"image": crop, "mask": arrays.get(f"{phase}__{deli}__mask"),
                        "overlay": (cam - cam.min()) / span if span > 0 else cam * 0,
                        "title": f"{pid} {phase}" + ("" if w else " (no selected feature)")})
        panels.append(row)
    return panels


def build_cam_section(cam_panels: list, densenet_weights_provenance: dict,
                      reporting: dict) -> dict[str, Any]:
    settings = ReportSettings.from_params(reporting)
    figs, sec = sections.cam_section(
        cam_panels, weights_source=str(densenet_weights_provenance.get("weights_source")),
        stride=settings.image_stride)
    return _with_section(figs, sec)


def build_signature_section(signature_weights: pd.DataFrame, signature_cv_results: pd.DataFrame,
                            signature_metrics: pd.DataFrame, reporting: dict) -> dict[str, Any]:
    settings = ReportSettings.from_params(reporting)
    cols = settings.signature_columns
    figs, sec = sections.signature_section(
        signature_weights, signature_cv_results, signature_metrics,
        feature_col=cols["feature"], weight_col=cols["weight"],
        cv_x=cols.get("cv_x"), cv_mean=cols.get("cv_mean"), cv_sd=cols.get("cv_sd"),
        selected_x=None,
        metric_cols={k: cols[f"metric_{k}"] for k in ("cohort", "c_index", "ci_lower", "ci_upper")
                     if f"metric_{k}" in cols})
    return _with_section(figs, sec)


def build_provenance_section(densenet_weights_provenance: dict, reporting: dict,
                             deep_features: dict, data_contract: dict) -> dict[str, Any]:
    sec, banners = provenance_section(
        densenet_weights_provenance,
        {"reporting": reporting, "deep_features": deep_features, "data_contract": data_contract},
        package_versions())
    return {"section": sec.to_dict(), "banners": banners}


def assemble_report(reporting: dict, banners: list[str], *sections_: dict) -> str:
    """The single self-contained HTML report (Plotly JS inlined once)."""
    settings = ReportSettings.from_params(reporting)
    return render_report(list(sections_), title=settings.title, banners=banners,
                         subtitle="Zhang et al., Front. Oncol. 2020;10:593292, reproduced with "
                                  "hcc-nomogram. Risk direction: higher = worse.")


def render_static_images(reporting: dict, **figures) -> dict[str, Any]:
    """PNG copies of the figures (kaleido + Chromium, else matplotlib)."""
    settings = ReportSettings.from_params(reporting)
    return figures_to_images(figures, width=settings.static_width, engine=settings.static_engine)
