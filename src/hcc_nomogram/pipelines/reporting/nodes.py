"""Nodes of the `reporting` pipeline: pure functions, no I/O.

Each ``build_*_section`` node returns its figures (to ``report_<name>_figure`` datasets) and a
section (a dict, in memory) that :func:`assemble_report` turns into the single HTML report.
"""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd

from hcc_nomogram.datasets import Skipped
from hcc_nomogram.datasets.tables import cohort_rows
from hcc_nomogram.hooks import package_versions
from hcc_nomogram.parameters import DataContract, PredictParams, typed
from hcc_nomogram.report import sections
from hcc_nomogram.report.calculator import calculator_page, calculator_section
from hcc_nomogram.report.errors import require_input
from hcc_nomogram.report.html import Section, render_report
from hcc_nomogram.report.images import min_max
from hcc_nomogram.report.provenance import provenance_section, weights_banner
from hcc_nomogram.report.settings import ReportSettings
from hcc_nomogram.report.static import (
    BROWSER_FIX,
    BrowserFailedError,
    NoBrowserError,
    browser_path,
    figures_to_images,
)
from hcc_nomogram.report.tripod import (
    checklist_markdown,
    checklist_section,
    fill_checklist,
    run_records,
)

logger = logging.getLogger(__name__)


def _with_section(figs: dict, sec) -> dict[str, Any]:
    return {**figs, "section": sec.to_dict()}


def build_cohort_section(
    clinical_table: pd.DataFrame, data_contract: dict, reporting: dict
) -> dict[str, Any]:
    settings = typed(ReportSettings, reporting)
    figs, sec = sections.cohort_section(
        clinical_table,
        typed(DataContract, data_contract),
        at_risk_every=settings.at_risk_every_months,
    )
    return _with_section(figs, sec)


def build_preprocessing_section(
    preprocessing_qc: pd.DataFrame, preprocessed_crops: dict, data_contract: dict, reporting: dict
) -> dict[str, Any]:
    settings, dc = typed(ReportSettings, reporting), typed(DataContract, data_contract)
    figs, sec = sections.preprocessing_section(
        preprocessing_qc,
        preprocessed_crops,
        dc,
        n_patients=settings.n_example_patients,
        stride=settings.image_stride,
    )
    return _with_section(figs, sec)


def build_ingest_section(
    ingest_qc: pd.DataFrame | None, preprocessing_qc: pd.DataFrame, data_contract: dict
) -> dict[str, Any]:
    dc = typed(DataContract, data_contract)
    figs, sec = sections.ingest_section(
        ingest_qc, preprocessing_qc, phases=list(dc.phases), id_col=dc.id_column
    )
    return _with_section(figs, sec)


def build_reproducibility_section(
    arterial_icc_table: pd.DataFrame, portal_icc_table: pd.DataFrame, icc_settings: dict
) -> dict[str, Any]:
    figs, sec = sections.reproducibility_section(
        {"arterial": arterial_icc_table, "portal": portal_icc_table},
        threshold=float(icc_settings["threshold"]),
    )
    return _with_section(figs, sec)


def build_cam_extractor(densenet_weights_provenance: dict, deep_features: dict):
    """Rebuild the run's DenseNet-121 from its provenance (same weights, seed and input mode
    as the features; ``batch_size`` and ``clip`` from ``params:deep_features``)."""
    from hcc_nomogram.features.densenet import build_extractor, resolve_weights

    prov = require_input(densenet_weights_provenance, "densenet_weights_provenance", "CAM")
    source = prov.get("weights_source")
    weights = "random" if source == "random" else prov.get("file") or "imagenet"
    resolved = resolve_weights(
        weights, seed=int(prov.get("seed") or 0), input_mode=prov.get("input_mode", "replicate")
    )
    return build_extractor(
        resolved,
        batch_size=int(deep_features.get("batch_size", 16)),
        clip=float(deep_features.get("clip", 3.0)),
    )


def compute_cam_panels(
    preprocessed_crops: dict,
    signature_weights: pd.DataFrame,
    extractor,
    data_contract: dict,
    reporting: dict,
) -> list[list[dict]]:
    """CAM of a few patients' AP and PVP crops (paper Fig 3), min-max scaled per crop.

    The map weights are the signature coefficients divided by the features' training SD
    (``signature_columns.scale``), i.e. in linear-predictor units: the 7x7 map of a crop
    averages to that phase's contribution to ``signature_lp`` (up to the centring constant).
    """
    from hcc_nomogram.features.cam import compute_cams, signature_feature_weights

    settings, dc = typed(ReportSettings, reporting), typed(DataContract, data_contract)
    cols = settings.signature_columns
    sections.require_columns(
        signature_weights,
        [cols["feature"], cols["weight"]],
        "signature_weights",
        "Class activation maps",
    )
    require_input(preprocessed_crops, "preprocessed_crops", "Class activation maps")
    weights = dict(zip(signature_weights[cols["feature"]], signature_weights[cols["weight"]]))
    scale = (
        dict(zip(signature_weights[cols["feature"]], signature_weights[cols["scale"]]))
        if cols.get("scale") in signature_weights
        else None
    )
    deli = dc.primary_delineation
    patients = sections.sample_patients(list(preprocessed_crops), settings.n_example_patients)
    arrays = {pid: sections._load(preprocessed_crops, pid) for pid in patients}
    weights_of = {phase: signature_feature_weights(weights, phase, scale) for phase in dc.phases}
    cells = [(pid, phase) for pid in patients for phase in dc.phases]
    cams = compute_cams(  # one DenseNet call for every crop shown
        extractor,
        [arrays[pid][f"{phase}__{deli}__image"] for pid, phase in cells],
        [weights_of[phase] for _pid, phase in cells],
    )
    panels: dict[str, list[dict]] = {pid: [] for pid in patients}
    for (pid, phase), cam in zip(cells, cams, strict=True):
        panels[pid].append(
            {
                "image": arrays[pid][f"{phase}__{deli}__image"],
                "mask": arrays[pid].get(f"{phase}__{deli}__mask"),
                "overlay": min_max(cam),
                "title": f"{pid} {phase}" + ("" if weights_of[phase] else " (no selected feature)"),
            }
        )
    return list(panels.values())


def build_cam_section(
    cam_panels: list, densenet_weights_provenance: dict, reporting: dict
) -> dict[str, Any]:
    settings = typed(ReportSettings, reporting)
    figs, sec = sections.cam_section(
        cam_panels,
        weights_source=str(densenet_weights_provenance.get("weights_source")),
        stride=settings.image_stride,
    )
    return _with_section(figs, sec)


def build_signature_section(
    signature_weights: pd.DataFrame,
    signature_cv_results: pd.DataFrame,
    signature_metrics: pd.DataFrame,
    reporting: dict,
) -> dict[str, Any]:
    settings = typed(ReportSettings, reporting)
    figs, sec = sections.signature_section(
        signature_weights,
        signature_cv_results,
        signature_metrics,
        columns=settings.signature_columns,
    )
    return _with_section(figs, sec)


def build_characteristics_section(
    table1_characteristics: pd.DataFrame, cohort_survival: pd.DataFrame
) -> dict[str, Any]:
    figs, sec = sections.characteristics_section(table1_characteristics, cohort_survival)
    return _with_section(figs, sec)


def build_nomogram_section(  # noqa: PLR0913  Kedro node: one argument per declared input
    *,
    clinical_points: pd.DataFrame,
    clinical_scale: pd.DataFrame,
    integrated_points: pd.DataFrame,
    integrated_scale: pd.DataFrame,
    multivariate_cox_table: pd.DataFrame,
    reporting: dict,
) -> dict[str, Any]:
    settings = typed(ReportSettings, reporting)
    figs, sec = sections.nomogram_section(
        {
            "clinical": (clinical_points, clinical_scale),
            "integrated": (integrated_points, integrated_scale),
        },
        multivariate_cox_table,
        times=settings.survival_times_months,
    )
    return _with_section(figs, sec)


def build_discrimination_section(
    clinical_discrimination: pd.DataFrame,
    integrated_discrimination: pd.DataFrame,
    c_index_comparison: pd.DataFrame,
) -> dict[str, Any]:
    figs, sec = sections.discrimination_section(
        {"clinical": clinical_discrimination, "integrated": integrated_discrimination},
        c_index_comparison,
    )
    return _with_section(figs, sec)


def build_calibration_section(
    clinical_calibration: pd.DataFrame,
    clinical_calibration_summary: pd.DataFrame,
    integrated_calibration: pd.DataFrame,
    integrated_calibration_summary: pd.DataFrame,
) -> dict[str, Any]:
    figs, sec = sections.calibration_section(
        {
            "clinical": (clinical_calibration, clinical_calibration_summary),
            "integrated": (integrated_calibration, integrated_calibration_summary),
        }
    )
    return _with_section(figs, sec)


def build_smooth_calibration_section(  # noqa: PLR0913  Kedro node: one argument per declared input
    *,
    clinical_calibration: pd.DataFrame,
    clinical_calibration_metrics: pd.DataFrame,
    clinical_calibration_curve: pd.DataFrame,
    integrated_calibration: pd.DataFrame,
    integrated_calibration_metrics: pd.DataFrame,
    integrated_calibration_curve: pd.DataFrame,
) -> dict[str, Any]:
    figs, sec = sections.smooth_calibration_section(
        {
            "clinical": (
                clinical_calibration,
                clinical_calibration_metrics,
                clinical_calibration_curve,
            ),
            "integrated": (
                integrated_calibration,
                integrated_calibration_metrics,
                integrated_calibration_curve,
            ),
        }
    )
    return _with_section(figs, sec)


def build_decision_curves_section(decision_curves: pd.DataFrame) -> dict[str, Any]:
    figs, sec = sections.decision_curves_section(decision_curves)
    return _with_section(figs, sec)


def build_reclassification_section(reclassification: pd.DataFrame) -> dict[str, Any]:
    figs, sec = sections.reclassification_section(reclassification)
    return _with_section(figs, sec)


def build_risk_groups_section(
    risk_group_km: pd.DataFrame,
    risk_group_summary: pd.DataFrame,
    data_contract: dict,
    reporting: dict,
) -> dict[str, Any]:
    settings, dc = typed(ReportSettings, reporting), typed(DataContract, data_contract)
    figs, sec = sections.risk_groups_section(
        risk_group_km,
        risk_group_summary,
        cohorts={"training": dc.training_value, "validation": dc.validation_value},
        at_risk_every=settings.at_risk_every_months,
    )
    return _with_section(figs, sec)


def build_calculator_section(  # noqa: PLR0913  Kedro node: one argument per declared input
    *,
    clinical_nomogram_model,
    integrated_nomogram_model,
    analysis_table: pd.DataFrame,
    densenet_weights_provenance: dict,
    data_contract: dict,
    nomogram,
    predict,
) -> dict[str, Any]:
    """The offline nomogram calculator (``page``, the ``nomogram_calculator`` dataset) and the
    report section that embeds and links it. Horizons: ``nomogram.horizons_months``; numeric
    input ranges: the training rows of ``analysis_table``, and inputs far outside them handled
    by ``predict.on_out_of_range`` (as the predict pipeline's guards)."""
    from hcc_nomogram.pipelines.nomogram.config import NomogramParams

    require_input(analysis_table, "analysis_table", "Nomogram calculator")
    guard, dc = typed(PredictParams, predict), typed(DataContract, data_contract)
    train = cohort_rows(analysis_table, dc)
    page = calculator_page(
        [clinical_nomogram_model, integrated_nomogram_model],
        train,
        horizons=typed(NomogramParams, nomogram).horizons_months,
        banner=weights_banner(densenet_weights_provenance),
        guard=guard,
    )
    return {"page": page, "section": calculator_section(page).to_dict()}


def build_provenance_section(
    densenet_weights_provenance: dict, reporting: dict, deep_features: dict, data_contract: dict
) -> dict[str, Any]:
    sec, banners = provenance_section(
        densenet_weights_provenance,
        {"reporting": reporting, "deep_features": deep_features, "data_contract": data_contract},
        package_versions(),
    )
    return {"section": sec.to_dict(), "banners": banners}


def build_tripod_section(  # noqa: PLR0913  Kedro node: one argument per declared input
    *,
    clinical_table: pd.DataFrame,
    preprocessing_qc: pd.DataFrame,
    multivariate_cox_table: pd.DataFrame,
    clinical_discrimination: pd.DataFrame,
    integrated_discrimination: pd.DataFrame,
    c_index_comparison: pd.DataFrame,
    clinical_bootstrap_validation: pd.DataFrame,
    integrated_bootstrap_validation: pd.DataFrame,
    clinical_calibration_summary: pd.DataFrame,
    integrated_calibration_summary: pd.DataFrame,
    signature_metrics: pd.DataFrame,
    signature_weights: pd.DataFrame,
    risk_group_summary: pd.DataFrame,
    densenet_weights_provenance: dict,
    data_contract: dict,
    nomogram,
    signature,
    deep_features: dict,
    preprocessing: dict,
    **report_sections: dict,
) -> dict[str, Any]:
    """The TRIPOD+AI checklist filled from this run (table, Markdown, report section).

    ``report_sections``: the other sections of the report being built (``report_<id>_section``
    datasets); an item links only to those, so no link dangles."""
    from importlib import metadata

    from hcc_nomogram.imaging.patient import PreprocessingSettings
    from hcc_nomogram.pipelines.nomogram.config import NomogramParams
    from hcc_nomogram.pipelines.signature.params import SignatureParams

    for data, name in (
        (clinical_table, "clinical_table"),
        (preprocessing_qc, "preprocessing_qc"),
        (signature_metrics, "signature_metrics"),
        (multivariate_cox_table, "multivariate_cox_table"),
    ):
        require_input(data, name, "TRIPOD+AI checklist")
    records = run_records(
        clinical_table=clinical_table,
        preprocessing_qc=preprocessing_qc,
        multivariate_cox_table=multivariate_cox_table,
        discrimination={
            "clinical": clinical_discrimination,
            "integrated": integrated_discrimination,
        },
        comparison=c_index_comparison,
        bootstrap={
            "clinical": clinical_bootstrap_validation,
            "integrated": integrated_bootstrap_validation,
        },
        calibration={
            "clinical": clinical_calibration_summary,
            "integrated": integrated_calibration_summary,
        },
        signature_metrics=signature_metrics,
        signature_weights=signature_weights,
        risk_group_summary=risk_group_summary,
        provenance=densenet_weights_provenance,
        data_contract=typed(DataContract, data_contract),
        nomogram=typed(NomogramParams, nomogram),
        signature=typed(SignatureParams, signature),
        icc_threshold=float(deep_features["icc"]["threshold"]),
        preprocessing=typed(PreprocessingSettings, preprocessing),
        versions={**package_versions(), "hcc-nomogram": metadata.version("hcc_nomogram")},
    )
    present = [s["id"] for s in report_sections.values()] + ["tripod_ai"]
    checklist = fill_checklist(records, present)
    return {
        "checklist": checklist,
        "markdown": checklist_markdown(checklist, report_file="hcc_nomogram_report.html"),
        "section": checklist_section(checklist).to_dict(),
    }


def assemble_report(reporting: dict, banners: list[str], *sections_: dict) -> str:
    """The single self-contained HTML report (Plotly JS inlined once)."""
    settings = typed(ReportSettings, reporting)
    return render_report(
        list(sections_),
        title=settings.title,
        banners=banners,
        subtitle="Zhang et al., Front. Oncol. 2020;10:593292, reproduced with "
        "hcc-nomogram. Risk direction: higher = worse.",
    )


def render_static_images(reporting: dict, **figures) -> dict[str, Any]:
    """PNG copies of the figures (kaleido + the machine's Chrome/Chromium), or, per
    ``reporting.static_images``, :class:`Skipped` (``never``, or ``auto`` without a browser:
    a warning names the fix) or an error (``always`` without a browser)."""
    settings = typed(ReportSettings, reporting)
    mode = settings.static_images
    if mode == "never":
        return {name: Skipped("reporting.static_images: never") for name in figures}
    if browser_path() is None:
        message = (
            f"No Chrome/Chromium on this machine: the {len(figures)} PNG copies of the report "
            f"figures are not written (the HTML report is complete). Fix: {BROWSER_FIX}; or set "
            "`reporting.static_images: never` (conf/base/parameters_reporting.yml) to skip them "
            "without this warning."
        )
        if mode == "always":
            raise NoBrowserError(f"{message} (reporting.static_images: always)")
        logger.warning(message)
        return {name: Skipped("no Chrome/Chromium for kaleido") for name in figures}
    try:
        return figures_to_images(figures, width=settings.static_width)
    except BrowserFailedError as error:
        if mode == "always":
            raise
        logger.warning("The PNG copies of the report figures are not written: %s.", error)
        return {name: Skipped("Chrome/Chromium did not render") for name in figures}


def assemble_clinical_report(reporting: dict, *sections_: dict) -> str:
    """The clinical-only report: cohort and nomogram sections, no image-derived input (for a
    user with a clinical spreadsheet only:
    `kedro run --pipelines=reporting --tags=clinical_report`)."""
    settings = typed(ReportSettings, reporting)
    note = Section("not_available", "Image-based sections")
    note.text(
        "Preprocessing QC, feature reproducibility, the deep learning signature and the "
        "class activation maps are not available in the clinical-only report (they need "
        "CT images). Run the default pipeline for the full report "
        "(hcc_nomogram_report)."
    )
    return render_report(
        [*sections_, note.to_dict()],
        title=f"{settings.title} (clinical only)",
        subtitle="Zhang et al., Front. Oncol. 2020;10:593292, reproduced with "
        "hcc-nomogram. Clinical-only report. Risk direction: higher = "
        "worse.",
    )
