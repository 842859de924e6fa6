"""Guard rails of the `predict` pipeline: frozen models are applied to new patients only when
the features would be computed exactly as in training, and every clinical input is present.

* :func:`training_settings_record` is what a training run records (``training_settings``):
  the settings that change a crop or a deep feature, plus the DenseNet weights provenance.
* :func:`compare_training_settings` / :func:`compare_weights_provenance` raise
  :class:`ModelMismatchError` listing every difference between training and now.
* :func:`check_clinical_inputs` raises :class:`~hcc_nomogram.errors.InputDataError` naming the
  patient and column of a missing or unknown clinical value, and returns one warning per value
  outside the range seen in the training cohort.
* :func:`far_out_of_range` names the inputs (signature score, numeric factors) of a patient that
  lie far outside the training range: ``predict.on_out_of_range`` then refuses the prediction
  (default) or flags it (``prediction_status``, page banner), never a silent "low risk".
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from hcc_nomogram.errors import HccNomogramError, InputDataError, require_columns
from hcc_nomogram.stats.design import Term, _normalise_level

#: ``preprocessing`` keys that change crops (``on_bad_patient``, ``validation`` and
#: ``log_every`` only decide which patients are processed and what is logged).
PREPROCESSING_KEYS = ("registration", "crop", "intensity")
#: ``deep_features`` keys that change features beyond the weights file itself (compared
#: through the provenance: source, MD5, seed, input mode).
DEEP_FEATURE_KEYS = ("input_mode", "clip")
CONTRACT_KEYS = ("phases", "primary_delineation", "mask_label")
#: Provenance fields that must be equal (the seed only matters for random weights).
PROVENANCE_KEYS = (
    "weights_source",
    "file_md5",
    "input_mode",
    "architecture",
    "pooling",
    "n_features",
)
SETTINGS_SCHEMA_VERSION = 1


class ModelMismatchError(HccNomogramError, ValueError):
    """The frozen models were trained with other feature-extraction settings or weights."""


def _plain(value: Any) -> Any:
    """JSON round trip: tuples -> lists, numpy scalars -> Python, pydantic -> dict."""
    if hasattr(value, "model_dump"):
        value = value.model_dump()
    return json.loads(
        json.dumps(value, default=lambda v: v.item() if hasattr(v, "item") else str(v))
    )


def training_settings_record(
    data_contract: Mapping,
    preprocessing: Mapping,
    deep_features: Mapping,
    weights_provenance: Mapping,
) -> dict:
    """The settings a training run used to compute its crops and deep features."""
    return {
        "schema_version": SETTINGS_SCHEMA_VERSION,
        "data_contract": {k: _plain(data_contract.get(k)) for k in CONTRACT_KEYS},
        "preprocessing": {k: _plain(preprocessing.get(k)) for k in PREPROCESSING_KEYS},
        "deep_features": {k: _plain(deep_features.get(k)) for k in DEEP_FEATURE_KEYS},
        "densenet_weights_provenance": _plain(dict(weights_provenance)),
    }


def _differences(trained: Any, current: Any, path: str) -> list[str]:
    if isinstance(trained, Mapping) and isinstance(current, Mapping):
        out = []
        for key in sorted(set(trained) | set(current), key=str):
            out += _differences(trained.get(key), current.get(key), f"{path}.{key}")
        return out
    if (
        isinstance(trained, float)
        and isinstance(current, int | float)
        and not isinstance(current, bool)
        and math.isclose(trained, float(current), rel_tol=1e-12)
    ):
        return []
    if trained != current:
        return [f"{path}: trained with {trained!r}, configured now {current!r}"]
    return []


def compare_training_settings(
    training_settings: Mapping,
    data_contract: Mapping,
    preprocessing: Mapping,
    deep_features: Mapping,
) -> list[str]:
    """Raise :class:`ModelMismatchError` when a crop/feature setting differs from training.

    Returns the list of compared setting paths (for the model card / logs).
    """
    now = training_settings_record(data_contract, preprocessing, deep_features, {})
    problems = []
    for block in ("data_contract", "preprocessing", "deep_features"):
        problems += _differences(training_settings.get(block, {}), now[block], block)
    if problems:
        raise ModelMismatchError(
            "the frozen models were trained with other feature-extraction settings than the ones "
            "configured now, so new patients' deep features would not be comparable:\n  - "
            + "\n  - ".join(problems)
            + "\nPotential fix: restore the training values (conf/base/parameters_preprocessing.yml"
            ", parameters_deep_features.yml, parameters.yml or conf/local), or load the models of"
            " a training run made with the current settings (--load-versions)."
        )
    return [
        f"{b}.{k}"
        for b in ("data_contract", "preprocessing", "deep_features")
        for k in training_settings.get(b, {})
    ]


def compare_weights_provenance(trained: Mapping, current: Mapping) -> None:
    """Raise :class:`ModelMismatchError` when the DenseNet weights differ from training."""
    keys = list(PROVENANCE_KEYS)
    if trained.get("weights_source") == "random" or current.get("weights_source") == "random":
        keys.append("seed")
    problems = [
        f"{k}: trained with {trained.get(k)!r}, now {current.get(k)!r}"
        for k in keys
        if trained.get(k) != current.get(k)
    ]
    if problems:
        raise ModelMismatchError(
            "the DenseNet-121 weights resolved now differ from the ones the models were trained "
            "with (densenet_weights_provenance):\n  - "
            + "\n  - ".join(problems)
            + "\nPotential fix: set deep_features.weights / seed / input_mode to the training "
            "values (for ImageNet weights, make the same file available, e.g. in the Keras cache;"
            " for a training run that fell back to random weights, predict offline with the same "
            "seed), or load a training run made with these weights (--load-versions)."
        )


def check_same_training_run(signature_lp_train: np.ndarray, lp_min: float, lp_max: float) -> None:
    """The signature model and the nomogram's analysis table must come from one training run."""
    lp = np.asarray(signature_lp_train, dtype=float)
    if lp.size == 0 or not (
        math.isclose(float(lp.min()), lp_min, rel_tol=1e-6, abs_tol=1e-9)
        and math.isclose(float(lp.max()), lp_max, rel_tol=1e-6, abs_tol=1e-9)
    ):
        raise ModelMismatchError(
            "signature_model and analysis_table come from different training runs: the training "
            f"signature_lp of analysis_table spans [{lp.min() if lp.size else 'n/a'}, "
            f"{lp.max() if lp.size else 'n/a'}], the signature model was fitted on "
            f"[{lp_min}, {lp_max}]. Potential fix: load matching versions of signature_model, "
            "analysis_table and integrated.nomogram_model (--load-versions), or re-run training."
        )


def clinical_terms(terms: tuple[Term, ...], signature_column: str | None) -> list[Term]:
    """The model terms that come from the clinical table (not the signature)."""
    return [t for t in terms if t.column != signature_column]


def check_clinical_inputs(
    clinical: pd.DataFrame, terms: list[Term], training: pd.DataFrame, id_column: str
) -> dict[str, list[str]]:
    """Validate the clinical values the nomogram needs; return ``{patient: [warnings]}``.

    Raises :class:`InputDataError` for a missing column, a missing value (naming patient and
    column) or a categorical level never seen in training. A numeric value outside the
    training range gives a warning (kept in the predictions and shown on the patient page).
    """
    warnings: dict[str, list[str]] = {str(p): [] for p in clinical[id_column]}
    ranges = training_ranges(terms, training)
    for term in terms:
        require_columns(
            clinical,
            [term.column],
            name=f"the new patients' clinical table (factor {term.display!r})",
            fix="add the column (same name and coding as in training), or map it "
            "in conf/base/parameters_nomogram.yml.",
        )
        values = clinical[term.column]
        for pid in clinical.loc[values.isna(), id_column]:
            raise InputDataError(
                f"missing value of {term.display!r}, required by the nomogram.",
                patient=pid,
                column=term.column,
                fix="fill in the value; the nomogram cannot predict without it (no imputation).",
            )
        if term.kind == "categorical":
            levels = set(term.levels)
            for pid, value in zip(clinical[id_column], values, strict=True):
                if _normalise_level(value) not in levels:
                    raise InputDataError(
                        f"value {value!r} of {term.display!r} was never seen in the training "
                        f"cohort (levels {list(term.levels)}).",
                        patient=pid,
                        column=term.column,
                        fix="recode it to one of the training levels.",
                    )
            continue
        numeric = pd.to_numeric(values, errors="coerce")
        for pid in clinical.loc[numeric.isna(), id_column]:
            raise InputDataError(
                f"{term.display!r} must be numeric.",
                patient=pid,
                column=term.column,
                fix="give a number (no units).",
            )
        lo, hi = ranges[term.column]
        for pid, value in zip(clinical[id_column], numeric, strict=True):
            if not lo <= value <= hi:
                warnings[str(pid)].append(
                    f"{term.column}={value:g} is outside the training range [{lo:g}, {hi:g}]"
                )
    return warnings


def score_range_warning(name: str, value: float, lo: float, hi: float) -> str | None:
    """Warning text when a score falls outside its training range."""
    if np.isfinite(value) and not lo - 1e-12 <= value <= hi + 1e-12:
        return f"{name}={value:.3f} is outside the training range [{lo:.3f}, {hi:.3f}]"
    return None


#: ``prediction_status`` values of ``patient_predictions``
STATUS_OK, STATUS_FLAGGED, STATUS_REFUSED = "ok", "flagged: out of range", "refused: out of range"


def training_ranges(terms: list[Term], training: pd.DataFrame) -> dict[str, tuple[float, float]]:
    """``{column: (min, max)}`` in the training cohort of every numeric clinical term."""
    ranges = {}
    for term in terms:
        if term.kind != "categorical":
            seen = pd.to_numeric(training[term.column], errors="coerce").dropna()
            ranges[term.column] = (float(seen.min()), float(seen.max()))
    return ranges


def far_out_of_range(
    values: Mapping[str, float], ranges: Mapping[str, tuple[float, float]], margin: float
) -> list[str]:
    """Reasons why an input lies FAR outside training: beyond ``margin`` x the training range
    on either side of it (``margin`` 0.5 with a signature score trained on [0, 1]: below -0.5 or
    above 1.5). Within the margin a value is only warned about (:func:`score_range_warning`)."""
    reasons = []
    for name, value in values.items():
        lo, hi = ranges[name]
        slack = margin * (hi - lo)
        if not np.isfinite(value) or not lo - slack <= value <= hi + slack:
            reasons.append(
                f"{name}={value:.3g} is far outside the training range "
                f"[{lo:.3g}, {hi:.3g}] (beyond the margin of {margin:g} x its width)"
            )
    return reasons


#: preprocessing-QC columns (``<phase>__<primary delineation>__<suffix>``) of the crop guard:
#: how much of the crop lies outside the CT image, and how much of it is air (< -500 HU)
CROP_QC_SUFFIXES = ("crop_outside_fraction", "crop_air_fraction")


def crop_qc_columns(qc: pd.DataFrame, primary: str) -> list[str]:
    """The crop-coverage QC columns of the primary delineation present in ``qc``."""
    return [
        c for c in qc.columns if c.endswith(tuple(f"__{primary}__{s}" for s in CROP_QC_SUFFIXES))
    ]


def crop_training_ranges(
    training_qc: pd.DataFrame, training_ids, primary: str, id_column: str = "patient_id"
) -> dict[str, tuple[float, float]]:
    """``{column: (min, max)}`` of the crop-coverage QC over the included training patients
    (empty when the training run predates these columns)."""
    qc = training_qc[training_qc[id_column].astype(str).isin({str(p) for p in training_ids})]
    if "excluded" in qc.columns:
        qc = qc[~qc["excluded"].astype(bool)]
    ranges = {}
    for column in crop_qc_columns(qc, primary):
        seen = pd.to_numeric(qc[column], errors="coerce").dropna()
        if not seen.empty:
            ranges[column] = (float(seen.min()), float(seen.max()))
    return ranges


#: the least excess over the training maximum that refuses a crop, as a share of what the
#: worst training crop still had inside (1 - maximum): a cohort of full-size CTs, whose training
#: crops never leave the image (range [0, 0]), refuses a crop only when it is more than half
#: outside, not a crop a few pixels outside
CROP_MIN_SLACK_SHARE = 0.5


def crop_far_outside(
    values: Mapping[str, float], ranges: Mapping[str, tuple[float, float]], margin: float
) -> list[str]:
    """Reasons why a new patient's crop lies much more outside the image / in air than any
    training crop, e.g. a tumour at the image corner: above the training maximum ``hi`` by more
    than ``max(margin x the training width, CROP_MIN_SLACK_SHARE x (1 - hi))``. High side only
    (less air than in training is no reason to refuse); a non-finite value is always a reason."""
    reasons = []
    for name, value in values.items():
        if name not in ranges:
            continue
        lo, hi = ranges[name]
        slack = max(margin * (hi - lo), CROP_MIN_SLACK_SHARE * (1.0 - hi))
        if not np.isfinite(value) or value > hi + slack:
            reasons.append(
                f"crop mostly outside the body: {name}={value:.3g} is far outside the "
                f"training range [{lo:.3g}, {hi:.3g}] (more than {slack:.3g} above it)"
            )
    return reasons
