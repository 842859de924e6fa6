"""Nodes of the `preprocessing` pipeline: pure functions, no I/O.

Images are read lazily through the :class:`~hcc_nomogram.datasets.CohortManifest` (one patient
at a time); the crops and per-patient QC records are returned as lazy save callables for
``PartitionedDataset`` outputs. The per-patient work runs on the engine chosen by ``compute``
(:mod:`hcc_nomogram.compute`). The logic lives in :mod:`hcc_nomogram.imaging`.
"""

from __future__ import annotations

import json
import logging
from contextlib import closing
from typing import Any

import pandas as pd

from hcc_nomogram.compute import ComputeSettings
from hcc_nomogram.datasets import CohortManifest
from hcc_nomogram.imaging.batch import lazy_preprocessing, validate_cohort
from hcc_nomogram.imaging.patient import (
    PatientSource,
    PreprocessingSettings,
    excluded_record,
    image_columns,
)
from hcc_nomogram.parameters import DataContract, check_consistent, typed

logger = logging.getLogger(__name__)

VALIDATION_COLUMNS = ["patient_id", "excluded", "exclusion_reason", "warnings"]
QC_FIRST_COLUMNS = ["patient_id", "excluded", "exclusion_reason", "fixed_phase", "moving_phase"]


def validate_cohort_images(
    cohort_manifest: CohortManifest, data_contract: dict, preprocessing: dict, compute: dict
) -> pd.DataFrame:
    """Check every patient's phases and masks before any work (one row per patient, in
    manifest order), on the ``compute`` engine.

    With ``on_bad_patient: raise`` the first bad patient (in manifest order) stops the run with
    its error; with ``exclude`` it is marked ``excluded`` with the reason, and reported in the
    QC table.
    """
    settings, contract = _settings(data_contract, preprocessing)
    cohort_manifest.require_columns(image_columns(contract))
    rows = []
    checks = validate_cohort(
        _sources(cohort_manifest, cohort_manifest.patient_ids),
        contract,
        settings.validation,
        typed(ComputeSettings, compute),
    )
    with closing(checks):
        for patient_id, warnings, error in checks:
            if error is None:
                rows.append(
                    {
                        "patient_id": patient_id,
                        "excluded": False,
                        "exclusion_reason": "",
                        "warnings": json.dumps(warnings),
                    }
                )
                continue
            if settings.on_bad_patient == "raise":
                raise error
            logger.warning("preprocessing: excluding patient %s: %s", patient_id, error)
            rows.append(excluded_record(patient_id, error))
    table = pd.DataFrame(rows, columns=VALIDATION_COLUMNS)
    logger.info(
        "preprocessing: %d/%d patients passed the input checks (%d excluded).",
        (~table["excluded"]).sum(),
        len(table),
        table["excluded"].sum(),
    )
    return table


def _settings(
    data_contract: dict, preprocessing: dict
) -> tuple[PreprocessingSettings, DataContract]:
    """The typed blocks, checked against each other (as once per run; here for a node called
    directly)."""
    settings = typed(PreprocessingSettings, preprocessing)
    contract = typed(DataContract, data_contract)
    check_consistent(contract, preprocessing=settings)
    return settings, contract


def _sources(cohort_manifest: CohortManifest, patient_ids: list[str]) -> list[PatientSource]:
    """One source per patient, each carrying only its own manifest row (small to ship to a
    worker)."""
    return [PatientSource.from_manifest(cohort_manifest.subset([pid]), pid) for pid in patient_ids]


def preprocess_patients(
    cohort_manifest: CohortManifest,
    preprocessing_validation: pd.DataFrame,
    data_contract: dict,
    preprocessing: dict,
    compute: dict,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Register, select the representative slice, crop and z-score every valid patient.

    Returns lazy ``{patient_id: callable}`` dicts for ``preprocessed_crops`` (valid patients
    only) and ``preprocessing_qc_records`` (every patient, excluded ones included); the
    patients run on the ``compute`` engine when the datasets save them.
    """
    settings, contract = _settings(data_contract, preprocessing)
    flagged = preprocessing_validation[preprocessing_validation["excluded"].astype(bool)]
    # the rows are the patients' QC records (see excluded_record)
    excluded = {row["patient_id"]: row for row in flagged.to_dict("records")}
    sources = _sources(
        cohort_manifest, [pid for pid in cohort_manifest.patient_ids if pid not in excluded]
    )
    return lazy_preprocessing(
        sources, excluded, contract, settings, typed(ComputeSettings, compute)
    )


def summarize_preprocessing_qc(preprocessing_qc_records: dict[str, Any]) -> pd.DataFrame:
    """One row per patient: slices, areas, centroids, registration metrics, exclusions."""
    rows = [load() for _pid, load in sorted(preprocessing_qc_records.items())]
    table = pd.DataFrame(rows)
    first = [c for c in QC_FIRST_COLUMNS if c in table.columns]
    last = [c for c in ("warnings", "seconds") if c in table.columns]
    middle = [c for c in table.columns if c not in first and c not in last]
    table = table[first + middle + last]
    table["excluded"] = table["excluded"].astype(bool)
    return table.sort_values("patient_id").reset_index(drop=True)
