"""Nodes of the `deep_features` pipeline: pure functions, no catalog access.

The one node that touches a file is :func:`build_densenet_extractor`, which loads the network
weights named by ``params:deep_features.weights`` (a model artefact, with its MD5 recorded in
``densenet_weights_provenance``). Crops arrive as the lazy loaders of the partitioned
``preprocessed_crops`` dataset; the extraction runs on the ``compute`` engine, whose workers
read the crops from those loaders themselves (:mod:`hcc_nomogram.features.extraction`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from hcc_nomogram.compute import ComputeSettings, run_engine
from hcc_nomogram.errors import InputDataError
from hcc_nomogram.features.densenet import (
    N_FEATURES,
    DenseNetExtractor,
    feature_names,
    make_extractor,
)
from hcc_nomogram.features.extraction import (
    CropRef,
    checked_crop,
    extract_on_engine,
    load_partition,
    read_crops,
)
from hcc_nomogram.parameters import DataContract, check_consistent, typed
from hcc_nomogram.pipelines.deep_features.params import DeepFeaturesParams, IccSettings
from hcc_nomogram.stats.icc import icc_2_1

logger = logging.getLogger(__name__)

DELINEATION_COLUMN = "delineation"
WEIGHTS_SOURCE_COLUMN = "weights_source"


def build_densenet_extractor(
    settings: dict[str, Any],
    preprocessed_crops: Mapping[str, Any],
    data_contract: dict[str, Any],
    phases: dict[str, str],
) -> tuple[DenseNetExtractor, dict[str, Any], pd.DataFrame]:
    """Check every crop of every phase (bad input fails before anything is built or saved), then
    build the frozen DenseNet-121; return it, its weights provenance and the crop inventory."""
    inventory = check_preprocessed_crops(preprocessed_crops, data_contract, phases)
    extractor = make_extractor(typed(DeepFeaturesParams, settings))
    return extractor, extractor.provenance.to_dict(), inventory


def _patient_id(partition_key: str) -> str:
    key = str(partition_key).replace("\\", "/").rsplit("/", 1)[-1]
    return key[: -len(".npz")] if key.endswith(".npz") else key


def collect_phase_crops(
    preprocessed_crops: Mapping[str, Any], phase: str, data_contract: dict[str, Any]
) -> tuple[pd.DataFrame, np.ndarray]:
    """Gather the crops of one phase: ``(index rows [patient, delineation], crops (N, 224, 224))``.

    The primary delineation is required for every patient; the repeated delineations (used
    only for the ICCs) may be missing for some patients.
    """
    dc = typed(DataContract, data_contract)
    id_col, primary, delineations = dc.id_column, dc.primary_delineation, list(dc.delineations)
    rows, crops = [], []
    for key in sorted(preprocessed_crops):
        patient = _patient_id(key)
        archive = load_partition(preprocessed_crops[key])
        for delineation in delineations:
            name = f"{phase}__{delineation}__image"
            if name not in archive:
                if delineation == primary:
                    raise InputDataError(
                        f"crop {name!r} (primary delineation) is missing; the archive holds "
                        f"{sorted(archive)}.",
                        patient=patient,
                        file=f"preprocessed_crops/{patient}.npz",
                        fix="re-run the preprocessing pipeline for this patient.",
                    )
                continue
            crops.append(checked_crop(archive, name, patient))
            rows.append((patient, delineation))
    if not rows:
        raise InputDataError(
            "preprocessed_crops holds no patient.",
            file="preprocessed_crops",
            fix="run the preprocessing pipeline first.",
        )
    index = pd.DataFrame(rows, columns=[id_col, DELINEATION_COLUMN])
    return index, np.stack(crops)


def listed_crops(
    preprocessed_crops: Mapping[str, Any], inventory: pd.DataFrame, phase: str, id_col: str
) -> tuple[pd.DataFrame, list[CropRef]]:
    """The crops of ``phase`` that ``inventory`` lists, in its order: ``(index, refs)``, one
    :class:`~hcc_nomogram.features.extraction.CropRef` (patient, partition loader, key) per
    crop; :func:`~hcc_nomogram.features.extraction.read_crops` reads them."""
    index = inventory.query("phase == @phase")[[id_col, DELINEATION_COLUMN]].reset_index(drop=True)
    keys = {_patient_id(key): key for key in preprocessed_crops}
    refs = [
        CropRef(patient, preprocessed_crops[keys[patient]], f"{phase}__{delineation}__image")
        for patient, delineation in index.itertuples(index=False)
    ]
    return index, refs


def check_preprocessed_crops(
    preprocessed_crops: Mapping[str, Any], data_contract: dict[str, Any], phases: dict[str, str]
) -> pd.DataFrame:
    """Validate every crop of every phase; return the inventory: one row per patient x phase x
    delineation found."""
    inventory = pd.concat(
        [
            collect_phase_crops(preprocessed_crops, phase, data_contract)[0].assign(phase=phase)
            for phase in phases.values()
        ],
        ignore_index=True,
    )
    logger.info(
        "preprocessed_crops: %d patients, %d crops checked (shape, finiteness).",
        inventory.iloc[:, 0].nunique(),
        len(inventory),
    )
    return inventory


def extract_deep_features(  # noqa: PLR0913, PLR0917  Kedro node: one argument per input
    preprocessed_crops: Mapping[str, Any],
    crop_inventory: pd.DataFrame,
    densenet_extractor: DenseNetExtractor,
    phase: str,
    data_contract: dict[str, Any],
    compute: dict[str, Any],
) -> pd.DataFrame:
    """Deep features of the crops ``crop_inventory`` lists for ``phase``: one row per patient x
    delineation, 1024 ``<phase>_fNNNN`` columns. They are computed on the run's ``compute``
    engine (:mod:`hcc_nomogram.features.extraction`: workers read their crops and build the
    model once each) when ``compute.extraction`` says so, else in this process."""
    settings = typed(ComputeSettings, compute)
    index, refs = listed_crops(
        preprocessed_crops, crop_inventory, phase, typed(DataContract, data_contract).id_column
    )
    logger.info(
        "deep_features[%s]: %d crops of %d patients through DenseNet-121 (%s weights).",
        phase,
        len(refs),
        index.iloc[:, 0].nunique(),
        densenet_extractor.weights_source,
    )
    if not settings.extract_on_workers:
        features = densenet_extractor.extract(read_crops(refs))
    else:
        engine = run_engine(settings)
        logger.info("deep_features[%s]: on %s", phase, engine.describe())
        features = extract_on_engine(engine, densenet_extractor, refs)
    table = pd.concat(
        [index, pd.DataFrame(features, columns=feature_names(phase, N_FEATURES))], axis=1
    )
    table.insert(2, WEIGHTS_SOURCE_COLUMN, densenet_extractor.weights_source)
    table.attrs.update(
        weights_source=densenet_extractor.weights_source,
        is_imagenet=densenet_extractor.provenance.is_imagenet,
        phase=phase,
    )
    return table


def compute_feature_icc(
    deep_features: pd.DataFrame, icc_settings: dict[str, Any], data_contract: dict[str, Any]
) -> pd.DataFrame:
    """ICC(2,1) of every feature for each comparison (e.g. intra r1a-r1b, inter r1a-r2).

    Returns one row per feature: ``feature``, then per comparison ``<name>_icc``,
    ``<name>_ci_low``, ``<name>_ci_high``, ``<name>_f``, ``<name>_pvalue``, ``<name>_n``,
    ``<name>_status``, and ``reproducible`` (every computed comparison's ICC > ``threshold``;
    NaN counts as not). A comparison with fewer than 3 patients having both delineations is
    not computed (status says why, NaN ICC) and does not filter.
    """
    dc, settings = typed(DataContract, data_contract), typed(IccSettings, icc_settings)
    check_consistent(dc, icc=settings)
    id_col, threshold = dc.id_column, settings.threshold
    features = [
        c
        for c in deep_features.columns
        if c not in (id_col, DELINEATION_COLUMN, WEIGHTS_SOURCE_COLUMN)
    ]
    out = pd.DataFrame({"feature": features})
    reproducible = np.ones(len(features), dtype=bool)
    skipped: list[str] = []
    for name, comparison in settings.comparisons.items():
        pair = list(comparison)
        wide = [
            deep_features.loc[deep_features[DELINEATION_COLUMN] == d].set_index(id_col)[features]
            for d in pair
        ]
        patients = wide[0].index.intersection(wide[1].index)
        if len(patients) < 3:
            # e.g. an export with one reader's delineations only: say which filter cannot be
            # computed (the table's <name>_status) instead of stopping the run
            status = (
                f"not computed: {len(patients)} patient(s) with both {pair[0]} and "
                f"{pair[1]} (>= 3 needed)"
            )
            out[f"{name}_icc"], out[f"{name}_n"], out[f"{name}_status"] = (
                np.nan,
                len(patients),
                status,
            )
            skipped.append(name)
            logger.warning(
                "ICC %s (%s vs %s): %s; this reproducibility filter is not applied. "
                "Provide the %s delineation (manifest mask columns) for more patients.",
                name,
                *pair,
                status,
                pair[1],
            )
            continue
        ratings = np.stack([w.loc[patients].to_numpy(np.float64) for w in wide], axis=1)
        res = icc_2_1(ratings, alpha=settings.alpha)
        frame = res.to_frame(prefix=f"{name}_")
        frame[f"{name}_n"] = res.n_targets
        frame[f"{name}_status"] = "computed"
        out = pd.concat([out, frame], axis=1)
        passed = np.nan_to_num(res.icc, nan=-np.inf) > threshold
        reproducible &= passed
        logger.info(
            "ICC %s (%s vs %s, %d patients): %d/%d features > %.2f",
            name,
            *pair,
            len(patients),
            int(passed.sum()),
            len(features),
            threshold,
        )
    out["reproducible"] = reproducible
    out.attrs.update(deep_features.attrs)
    computed = [n for n in settings.comparisons if n not in skipped]
    if skipped:
        logger.warning(
            "ICC filters computed: %s; not computed: %s%s.",
            computed or "none",
            skipped,
            " -- no reproducibility filter is applied, every feature is kept"
            if not computed
            else "",
        )
    logger.info(
        "%d/%d features reproducible (all ICCs > %.2f).",
        int(reproducible.sum()),
        len(features),
        threshold,
    )
    return out


def select_reproducible_features(
    deep_features: pd.DataFrame, icc_table: pd.DataFrame, data_contract: dict[str, Any]
) -> pd.DataFrame:
    """Primary-delineation rows, reproducible feature columns, indexed by patient ID."""
    dc = typed(DataContract, data_contract)
    id_col, keep = dc.id_column, icc_table.loc[icc_table["reproducible"], "feature"].tolist()
    primary = deep_features[DELINEATION_COLUMN] == dc.primary_delineation
    table = deep_features.loc[primary, [id_col, *keep]].set_index(id_col)
    table.attrs.update(deep_features.attrs)
    return table


def assemble_model_input_features(
    cohort_manifest: Any, data_contract: dict[str, Any], *phase_features: pd.DataFrame
) -> pd.DataFrame:
    """``patient_id, center, cohort`` + the reproducible features of every phase (primary
    delineation).

    ``cohort_manifest`` is a :class:`~hcc_nomogram.datasets.CohortManifest` or a DataFrame
    (e.g. ``clinical_table``) holding the ID, center and cohort columns.
    """
    dc = typed(DataContract, data_contract)
    id_col, cols = dc.id_column, [dc.id_column, dc.center_column, dc.cohort_column]
    table = getattr(cohort_manifest, "table", cohort_manifest)
    missing = [c for c in cols if c not in table.columns]
    if missing:
        raise InputDataError(
            f"columns {missing} missing from the cohort table.",
            file="cohort_manifest",
            column=missing[0],
            fix="map the names in data_contract (conf/base/parameters.yml).",
        )
    info = table[cols].astype({id_col: str}).set_index(id_col)
    features = pd.concat(phase_features, axis=1, join="outer")
    features.index = features.index.astype(str)
    if features.shape[1] == 0:
        raise InputDataError(
            "no deep feature passed the ICC reproducibility filter in any phase.",
            fix="inspect <phase>.icc_table; check the repeated delineations or lower "
            "deep_features.icc.threshold.",
        )
    unknown = features.index.difference(info.index)
    if len(unknown):
        raise InputDataError(
            "patients with crops are absent from the cohort manifest.",
            patient=", ".join(map(str, unknown[:10])),
            file="cohort_manifest",
            fix="re-run preprocessing on the current manifest.",
        )
    no_crops = info.index.difference(features.index)
    if len(no_crops):
        logger.warning(
            "%d manifest patients have no crops and are left out of model_input_features: %s",
            len(no_crops),
            ", ".join(no_crops[:10]),
        )
    result = info.join(features, how="inner").reset_index()
    sources = sorted({f.attrs.get("weights_source", "unknown") for f in phase_features})
    result.attrs.update(
        weights_source=",".join(sources),
        is_imagenet=all(f.attrs.get("is_imagenet", False) for f in phase_features),
    )
    if result.attrs["weights_source"] != "imagenet":
        logger.warning(
            "!!! model_input_features built from %s weights, NOT ImageNet.",
            result.attrs["weights_source"],
        )
    return result
