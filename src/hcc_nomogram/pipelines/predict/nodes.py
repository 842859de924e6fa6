"""Nodes of the `predict` pipeline: pure functions, no I/O, nothing refitted.

New patients go through the training-time code paths with the training-time settings:
:func:`hcc_nomogram.imaging.patient.preprocess_patient` (registration, largest-ROI slice, crop,
z-score), :class:`~hcc_nomogram.features.densenet.DenseNetExtractor` (the same weights, checked
against the training provenance), the frozen :class:`~hcc_nomogram.stats.coxnet.SignatureModel`
and the frozen integrated :class:`~hcc_nomogram.stats.nomogram.NomogramModel`.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

from hcc_nomogram.datasets import CohortManifest
from hcc_nomogram.datasets.tables import check_patient_ids, cohort_rows, outcome_columns
from hcc_nomogram.errors import InputDataError
from hcc_nomogram.features.cam import compute_cams, signature_feature_weights
from hcc_nomogram.features.densenet import DenseNetExtractor, feature_names, make_extractor
from hcc_nomogram.imaging.patient import (
    PatientSource,
    PreprocessingSettings,
    excluded_record,
    preprocess_patient,
)
from hcc_nomogram.parameters import DataContract, PredictParams, check_consistent, typed
from hcc_nomogram.pipelines.deep_features.nodes import collect_phase_crops
from hcc_nomogram.pipelines.deep_features.params import DeepFeaturesParams
from hcc_nomogram.pipelines.nomogram.config import NomogramParams
from hcc_nomogram.pipelines.predict import card, page
from hcc_nomogram.pipelines.predict.guards import (
    STATUS_FLAGGED,
    STATUS_OK,
    STATUS_REFUSED,
    check_clinical_inputs,
    check_same_training_run,
    clinical_terms,
    compare_training_settings,
    compare_weights_provenance,
    crop_far_outside,
    crop_training_ranges,
    far_out_of_range,
    score_range_warning,
    training_ranges,
    training_settings_record,
)
from hcc_nomogram.pipelines.preprocessing.nodes import summarize_preprocessing_qc
from hcc_nomogram.stats.coxnet import SignatureModel
from hcc_nomogram.stats.nomogram import NomogramModel

logger = logging.getLogger(__name__)

WARNINGS_COLUMN = "warnings"


# ----- recorded with training ------------------------------------------------------------------
def record_training_settings(
    data_contract: dict, preprocessing: dict, deep_features: dict, densenet_weights_provenance: dict
) -> dict:
    """``training_settings``: the crop/feature settings and weights of a training run."""
    return training_settings_record(
        data_contract, preprocessing, deep_features, densenet_weights_provenance
    )


# ----- guard rails -----------------------------------------------------------------------------
def check_feature_settings(
    training_settings: dict, data_contract: dict, preprocessing: dict, deep_features: dict
) -> tuple[list[str], dict, dict]:
    """Refuse (:class:`ModelMismatchError`) when crops or features would be computed
    differently from training; returns the compared settings' names and the accepted
    ``preprocessing`` and ``deep_features`` settings, the only ones the image nodes use."""
    compared = compare_training_settings(
        training_settings, data_contract, preprocessing, deep_features
    )
    logger.info("predict: feature-extraction settings match training (%s).", ", ".join(compared))
    return compared, preprocessing, deep_features


def build_predict_extractor(
    deep_features: dict, densenet_weights_provenance: dict
) -> DenseNetExtractor:
    """The DenseNet-121 with the accepted ``deep_features`` settings, refused unless its weights
    are the training ones."""
    extractor = make_extractor(typed(DeepFeaturesParams, deep_features))
    compare_weights_provenance(densenet_weights_provenance, extractor.provenance.to_dict())
    return extractor


# ----- images ----------------------------------------------------------------------------------
def _primary_contract(manifest: CohortManifest, contract: DataContract) -> DataContract:
    """The data contract restricted to the delineations the new manifest provides (the primary
    one is required; others are used, like in training, when present)."""
    manifest.require_columns(contract.phases.values())
    primary = contract.primary_delineation
    manifest.require_columns(contract.delineations[primary].values())
    present = {
        d: cols
        for d, cols in contract.delineations.items()
        if all(c in manifest.table.columns for c in cols.values())
    }
    return contract.model_copy(update={"delineations": present})


def preprocess_new_patients(
    predict_manifest: CohortManifest,
    predict_clinical_checked: pd.DataFrame,
    data_contract: dict,
    preprocessing: dict,
) -> tuple[dict[str, dict], pd.DataFrame]:
    """Crops of the primary delineation (``{patient: {"<phase>__<d>__image"|"__mask": array}}``)
    and one QC row per patient whose clinical inputs passed (``predict_clinical_checked``),
    computed exactly as in the preprocessing pipeline.

    Its inputs are the guard rails' outputs (``predict_clinical_checked``, the accepted
    ``preprocessing``), so this node, whose QC table is the run's first output, runs only after
    every guard rail passed: a refused run writes nothing.
    """
    dc = typed(DataContract, data_contract)
    settings = typed(PreprocessingSettings, preprocessing)
    check_consistent(dc, preprocessing=settings)
    contract = _primary_contract(predict_manifest, dc)
    primary = f"__{contract.primary_delineation}__"
    crops, records = {}, []
    for pid in predict_clinical_checked[dc.id_column].astype(str):
        source = PatientSource.from_manifest(predict_manifest, pid)
        try:
            arrays, qc = preprocess_patient(source, contract, settings)
        except InputDataError as error:
            if settings.on_bad_patient == "raise":
                raise
            logger.warning("predict: excluding patient %s: %s", pid, error)
            records.append(excluded_record(pid, error))
            continue
        crops[pid] = {k: v for k, v in arrays.items() if primary in k}
        records.append(qc)
    if not crops:
        raise InputDataError(
            "no new patient could be preprocessed.",
            file=predict_manifest.source,
            fix="see predict_preprocessing_qc for the exclusion reasons.",
        )
    qc = pd.DataFrame(records)
    qc["excluded"] = qc["excluded"].astype(bool)
    return crops, qc.sort_values("patient_id").reset_index(drop=True)


def _phases(deep_features: dict, dc: DataContract) -> list[str]:
    """The phases features are extracted from (``deep_features.phases``, else the contract's)."""
    return list((deep_features.get("phases") or {p: p for p in dc.phases}).values())


def extract_new_patient_features(
    predict_crops: dict[str, dict], predict_extractor, data_contract: dict, deep_features: dict
) -> pd.DataFrame:
    """Deep features of the primary delineation: ``patient_id`` + ``<phase>_fNNNN`` columns."""
    dc = typed(DataContract, data_contract)
    id_col, primary = dc.id_column, dc.primary_delineation
    contract = {**data_contract, "delineations": {primary: dc.delineations[primary]}}
    phases = _phases(deep_features, dc)
    frames = []
    for phase in phases:
        index, crops = collect_phase_crops(predict_crops, phase, contract)
        values = predict_extractor.extract(crops)
        frames.append(
            pd.DataFrame(
                values,
                columns=feature_names(phase, values.shape[1]),
                index=index[id_col].astype(str),
            )
        )
    table = pd.concat(frames, axis=1)
    table.index.name = id_col
    table = table.reset_index()
    table.insert(1, "weights_source", predict_extractor.weights_source)
    return table


# ----- clinical --------------------------------------------------------------------------------
def _training_rows(analysis_table: pd.DataFrame, dc: DataContract) -> pd.DataFrame:
    train = cohort_rows(analysis_table, dc)
    if train.empty:
        raise InputDataError(
            "analysis_table holds no training patient.",
            column=dc.cohort_column,
            fix="load the analysis_table of the training run.",
        )
    return train


def validate_new_clinical(  # noqa: PLR0913  Kedro node: one argument per declared input
    *,
    predict_clinical: pd.DataFrame,
    predict_manifest: CohortManifest,
    integrated_nomogram_model: NomogramModel,
    signature_model: SignatureModel,
    analysis_table: pd.DataFrame,
    data_contract: dict,
    nomogram: Any,
) -> pd.DataFrame:
    """The new patients' clinical rows (manifest order) with a ``warnings`` column.

    Raises naming patient and column when a value the nomogram needs is missing or unknown;
    values outside the training range only add a warning. Also refuses models of different
    training runs (:func:`check_same_training_run`) -- here, before any output of the run is
    written, rather than after the images were processed.
    """
    dc = typed(DataContract, data_contract)
    id_col = dc.id_column
    model = integrated_nomogram_model
    if not model.available:
        raise InputDataError(
            f"the integrated nomogram is not available: {model.reason}",
            fix="train with a signature (nomogram.signature not null).",
        )
    train = _training_rows(analysis_table, dc)
    check_same_training_run(
        train["signature_lp"].to_numpy(float),
        signature_model.lp_min,
        signature_model.lp_max,
    )
    if id_col not in predict_clinical.columns:
        raise InputDataError(
            f"the clinical table has no ID column {id_col!r}.",
            column=id_col,
            fix="name the column as data_contract.id_column.",
        )
    check_patient_ids(predict_clinical, id_col, source="predict_clinical")
    clinical = predict_clinical.assign(**{id_col: predict_clinical[id_col].astype(str)})
    dup = clinical[id_col][clinical[id_col].duplicated()].tolist()
    if dup:
        raise InputDataError(
            "duplicated patient ID(s) in the clinical table.", patient=", ".join(dup), column=id_col
        )
    ids = predict_manifest.patient_ids
    missing = [p for p in ids if p not in set(clinical[id_col])]
    if missing:
        raise InputDataError(
            "patient(s) of the manifest have no row in the clinical table.",
            patient=", ".join(missing),
            column=id_col,
            fix="add one clinical row per imaged patient.",
        )
    extra = sorted(set(clinical[id_col]) - set(ids))
    if extra:
        logger.warning(
            "predict: %d clinical row(s) without images are ignored: %s",
            len(extra),
            ", ".join(extra[:10]),
        )
    clinical = clinical.set_index(id_col).loc[ids].reset_index()
    sig = typed(NomogramParams, nomogram).signature
    terms = clinical_terms(model.terms, sig.column if sig else None)
    warnings = check_clinical_inputs(clinical, terms, train, id_col)
    clinical[WARNINGS_COLUMN] = [warnings[p] for p in clinical[id_col]]
    return clinical


# ----- prediction ------------------------------------------------------------------------------
def predict_new_patients(  # noqa: PLR0913  Kedro node: one argument per declared input
    *,
    predict_deep_features: pd.DataFrame,
    predict_clinical_checked: pd.DataFrame,
    signature_model: SignatureModel,
    integrated_nomogram_model: NomogramModel,
    analysis_table: pd.DataFrame,
    data_contract: dict,
    predict: dict,
    predict_preprocessing_qc: pd.DataFrame,
    preprocessing_qc_records: dict[str, Any],
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per patient: signature, nomogram points, survival at the horizons, risk group, warnings;
    and the predicted survival curves (long table).

    ``preprocessing_qc_records`` (the last preprocessing run's per-patient QC) gives the
    training patients' range of the primary crops' ``crop_outside_fraction`` /
    ``crop_air_fraction``, against which ``predict_preprocessing_qc`` (the new patients') is
    guarded."""
    dc, settings = typed(DataContract, data_contract), typed(PredictParams, predict)
    id_col = dc.id_column
    model = integrated_nomogram_model
    train = _training_rows(analysis_table, dc)
    ranges = {  # the guarded inputs' training (min, max): signature score first
        "signature_score": (
            float(train["signature_score"].min()),
            float(train["signature_score"].max()),
        ),
        **training_ranges(clinical_terms(model.terms, "signature_score"), train),
    }
    features = predict_deep_features.set_index(predict_deep_features[id_col].astype(str))
    table = predict_clinical_checked[
        predict_clinical_checked[id_col].isin(features.index)
    ].reset_index(drop=True)
    lp_sig = signature_model.linear_predictor(features.loc[table[id_col]])
    table["signature_lp"] = lp_sig
    table["signature_score"] = signature_model.rescale(lp_sig)
    horizons = [float(h) for h in settings.horizons_months]
    lp = model.predict_lp(table)
    out = pd.DataFrame(
        {
            id_col: table[id_col].to_numpy(),
            "model": model.name,
            "signature_lp": lp_sig,
            "signature_score": table["signature_score"],
            "linear_predictor": lp,
            "total_points": model.predict_points(table),
        }
    )
    surv = model.predict_survival(table, horizons)
    for col in surv.columns:
        out[col] = surv[col].to_numpy()
    out["risk_group"] = model.risk_group(lp)
    out["lp_cutoff"] = model.lp_cutoff
    lo, hi = ranges["signature_score"]
    sig_warn = [score_range_warning("signature_score", s, lo, hi) for s in out["signature_score"]]
    out["signature_out_of_range"] = [w is not None for w in sig_warn]
    warnings = [list(w) + ([s] if s else []) for w, s in zip(table[WARNINGS_COLUMN], sig_warn)]
    crops = _crop_coverage(
        predict_preprocessing_qc,
        summarize_preprocessing_qc(preprocessing_qc_records),
        train,
        table[id_col],
        data_contract,
    )
    reasons = _out_of_range_reasons(out, table, ranges, crops, settings.out_of_range_margin)
    out = _apply_out_of_range_policy(out, reasons, settings.on_out_of_range, id_col)
    out["n_warnings"] = [len(w) for w in warnings]
    out[WARNINGS_COLUMN] = ["; ".join(w) for w in warnings]
    out["weights_source"] = features.loc[table[id_col], "weights_source"].to_numpy()
    for pid, w in zip(out[id_col], warnings):
        for text in w:
            logger.warning("predict: patient %s: %s", pid, text)
    step = float(settings.curve_step_months)
    t_max = float(settings.curve_max_months or np.max(model.fit.baseline_time))
    grid = np.arange(0.0, t_max + step / 2, step)
    given = (out["prediction_status"] != STATUS_REFUSED).to_numpy()
    s = model.fit.survival(lp[given], grid)
    curves = pd.DataFrame(
        {
            id_col: np.repeat(out[id_col].to_numpy()[given], len(grid)),
            "time": np.tile(grid, int(given.sum())),
            "survival": s.ravel(),
        }
    )
    return out, curves


def _crop_coverage(
    new_qc: pd.DataFrame,
    training_qc: pd.DataFrame,
    train: pd.DataFrame,
    patients: pd.Series,
    data_contract: dict,
):
    """``([{column: value} per patient], {column: training (min, max)})`` of the primary crops'
    coverage QC; no ranges (guard skipped, with a warning) for a training run without them."""
    dc = typed(DataContract, data_contract)
    ranges = crop_training_ranges(training_qc, train[dc.id_column], dc.primary_delineation)
    if not ranges:
        logger.warning(
            "predict: the training preprocessing QC has no crop_outside_fraction / "
            "crop_air_fraction columns (older training run); crops mostly outside "
            "the body are not guarded. Re-run preprocessing to record them."
        )
    qc = new_qc.set_index(new_qc["patient_id"].astype(str))
    values = [
        {
            c: float(pd.to_numeric(qc.loc[str(p), c])) if c in qc.columns else float("nan")
            for c in ranges
        }
        for p in patients
    ]
    return values, ranges


def _out_of_range_reasons(
    out: pd.DataFrame,
    table: pd.DataFrame,
    ranges: dict[str, tuple[float, float]],
    crops: tuple[list[dict], dict],
    margin: float,
) -> list[list[str]]:
    """Per patient, why an input lies far outside its training range: the signature score and
    numeric factors (``ranges``), the crop coverage (``crops`` from :func:`_crop_coverage`)."""
    reasons = []
    for i in range(len(out)):
        values = {"signature_score": float(out["signature_score"].iloc[i])}
        values.update(
            {c: float(pd.to_numeric(table[c].iloc[i])) for c in ranges if c != "signature_score"}
        )
        reasons.append(
            far_out_of_range(values, ranges, margin)
            + (crop_far_outside(crops[0][i], crops[1], margin) if crops[1] else [])
        )
    return reasons


def _apply_out_of_range_policy(
    out: pd.DataFrame, reasons: list[list[str]], policy: str, id_col: str
) -> pd.DataFrame:
    """``out`` with ``out_of_range``, ``out_of_range_reasons`` and ``prediction_status``; a
    patient with a reason gets its prediction withheld (``policy`` "refuse") or flagged
    ("flag", risk group suffixed "(out of range)")."""
    far = np.array([bool(r) for r in reasons])
    out["out_of_range"] = far
    out["out_of_range_reasons"] = ["; ".join(r) for r in reasons]
    refuse = policy == "refuse"
    out["prediction_status"] = np.where(
        far, STATUS_REFUSED if refuse else STATUS_FLAGGED, STATUS_OK
    )
    for pid, why in zip(out[id_col][far], out["out_of_range_reasons"][far]):
        logger.warning(
            "predict: patient %s: prediction %s: %s", pid, "REFUSED" if refuse else "FLAGGED", why
        )
    if refuse:
        withheld = [
            c
            for c in out.columns
            if c in ("linear_predictor", "total_points") or c.startswith("surv_")
        ]
        out.loc[far, withheld] = np.nan
        out.loc[far, "risk_group"] = "not given"
    else:
        out.loc[far, "risk_group"] = out.loc[far, "risk_group"] + " (out of range)"
    return out


def compute_patient_cams(
    predict_crops: dict[str, dict],
    predict_extractor,
    signature_model: SignatureModel,
    data_contract: dict,
    deep_features: dict,
) -> dict[str, dict]:
    """CAM of each phase's primary crop in signature (linear-predictor) units, 224x224."""
    dc = typed(DataContract, data_contract)
    primary = dc.primary_delineation
    weights = dict(zip(signature_model.features, signature_model.coefficients))
    scale = dict(zip(signature_model.features, signature_model.sd))
    phases = _phases(deep_features, dc)
    weights_of = {phase: signature_feature_weights(weights, phase, scale) for phase in phases}
    cells = [(pid, phase) for pid in predict_crops for phase in phases]
    crops = [predict_crops[pid][f"{phase}__{primary}__image"] for pid, phase in cells]
    cams = compute_cams(predict_extractor, crops, [weights_of[phase] for _pid, phase in cells])
    out: dict[str, dict] = {pid: {} for pid in predict_crops}
    for (pid, phase), crop, cam in zip(cells, crops, cams, strict=True):
        out[pid][phase] = {
            "image": crop,
            "mask": predict_crops[pid].get(f"{phase}__{primary}__mask"),
            "cam": cam.astype(np.float32),
            "has_weights": bool(weights_of[phase]),
        }
    return out


def render_patient_pages(  # noqa: PLR0913  Kedro node: one argument per declared input
    *,
    patient_predictions: pd.DataFrame,
    patient_survival_curves: pd.DataFrame,
    patient_cams: dict,
    predict_clinical_checked: pd.DataFrame,
    integrated_nomogram_model: NomogramModel,
    signature_model: SignatureModel,
    densenet_weights_provenance: dict,
    data_contract: dict,
    predict: dict,
) -> dict[str, str]:
    """One self-contained HTML page per patient: ``{patient_id: html}``."""
    dc = typed(DataContract, data_contract)
    id_col = dc.id_column
    horizons = [float(h) for h in typed(PredictParams, predict).horizons_months]
    columns = list(
        dict.fromkeys(
            t.column
            for t in integrated_nomogram_model.terms
            if t.column in predict_clinical_checked.columns
        )
    )
    clinical = predict_clinical_checked.set_index(id_col)
    cfg = signature_model.config
    info = {
        "signature": f"{len(signature_model.features)} features, trained on "
        f"{cfg.get('n_training', '?')} patients",
        "nomogram": ", ".join(t.display for t in integrated_nomogram_model.terms),
    }
    pages = {}
    for row in patient_predictions.to_dict("records"):
        pid = str(row[id_col])
        text = row.get(WARNINGS_COLUMN)
        row[WARNINGS_COLUMN] = text if isinstance(text, str) else ""  # CSV: "" -> NaN
        flagged = {w.split("=", 1)[0] for w in row[WARNINGS_COLUMN].split("; ") if "=" in w}
        rows = [(c, str(clinical.loc[pid, c]), c in flagged) for c in columns]
        curve = patient_survival_curves[patient_survival_curves[id_col].astype(str) == pid]
        fig = (
            None
            if curve.empty
            else page.survival_curve_figure(
                curve,
                horizons,
                {h: row[f"surv_{h:g}"] for h in horizons},
                f"Patient {pid}: {row['risk_group']} risk",
            )
        )
        cam_png = (
            page.png_data_uri(page.cam_figure(patient_cams[pid])) if pid in patient_cams else None
        )
        pages[pid] = page.patient_page(
            row,
            rows,
            survival_png=page.png_data_uri(fig) if fig is not None else None,
            cam_png=cam_png,
            provenance=densenet_weights_provenance,
            model_info=info,
            horizons=horizons,
        )
    return pages


# ----- model card ------------------------------------------------------------------------------
def write_model_card(  # noqa: PLR0913  Kedro node: one argument per declared input
    *,
    signature_model: SignatureModel,
    integrated_nomogram_model: NomogramModel,
    densenet_weights_provenance: dict,
    training_settings: dict,
    analysis_table: pd.DataFrame,
    signature_metrics: pd.DataFrame,
    integrated_discrimination: pd.DataFrame,
    integrated_bootstrap_validation: pd.DataFrame,
    c_index_comparison: pd.DataFrame,
    integrated_calibration_summary: pd.DataFrame,
    data_contract: dict,
    nomogram: Any,
    predict: dict,
    predict_settings_check: list[str],
    predict_extractor: DenseNetExtractor,
) -> str:
    """The model card (Markdown) of the frozen models this run loaded, with what this run
    checked: the compared feature settings and the DenseNet weights resolved now (so the card,
    an output, is written only after both guard rails passed)."""
    dc = typed(DataContract, data_contract)
    now = predict_extractor.provenance
    checks = [
        f"{len(predict_settings_check)} feature-extraction settings equal the training "
        f"ones ({', '.join(predict_settings_check)}).",
        f"DenseNet-121 weights resolved now: {now.weights_source} (MD5 {now.file_md5}), "
        "the training ones.",
    ]
    p = typed(NomogramParams, nomogram)
    guard = typed(PredictParams, predict)
    policy = (
        f"a new patient whose signature score or numeric clinical factor lies more than "
        f"{guard.out_of_range_margin:g} x the training range outside that range is "
        + (
            "**refused** (no prediction; `prediction_status` says why)"
            if guard.on_out_of_range == "refuse"
            else "**flagged** (`prediction_status`, page banner, risk group marked "
            "'(out of range)')"
        )
        + f" (`predict.on_out_of_range: {guard.on_out_of_range}`); inside the margin but outside "
        "the range, a warning. The same rule applies to the share of the primary crop that lies "
        "outside the CT image or in air (preprocessing QC `crop_outside_fraction`, "
        "`crop_air_fraction`; above the training cohort's range only): a crop mostly outside "
        "the body."
    )
    time_col, event_col = outcome_columns(dc, p.primary_outcome, setting="nomogram.primary_outcome")
    model = integrated_nomogram_model
    train = _training_rows(analysis_table, dc)
    terms = clinical_terms(model.terms, p.signature.column if p.signature else None)
    terms = terms if model.available else []
    numeric = training_ranges(terms, train)
    ranges = [
        {
            "column": t.column,
            "training values": ", ".join(map(str, t.levels))
            if t.kind == "categorical"
            else "{:g} to {:g}".format(*numeric[t.column]),
        }
        for t in terms
    ]
    return card.ModelCard(
        signature_config=signature_model.config,
        n_signature_features=len(signature_model.features),
        nomogram_terms=[t.display for t in model.terms],
        lp_cutoff=model.lp_cutoff,
        provenance=densenet_weights_provenance,
        training_settings=training_settings,
        cohorts=card.cohort_summary(
            analysis_table, dc.cohort_column, dc.center_column, time_col, event_col
        ),
        signature_metrics=signature_metrics,
        discrimination=integrated_discrimination,
        bootstrap=integrated_bootstrap_validation,
        c_index_comparison=c_index_comparison,
        calibration_summary=integrated_calibration_summary,
        ranges=pd.DataFrame(ranges),
        out_of_range_policy=policy,
        run_checks=checks,
    ).to_markdown()
