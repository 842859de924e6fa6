"""Nodes of the `ingest` pipeline: pure functions; the logic lives in :mod:`hcc_nomogram.ingest`.

index (headers only, cached) -> plan (phase selection, masks, problems; no pixels) -> images
(lazy, one patient at a time) -> manifest + QC table. See ``docs/ingest.md``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

import numpy as np
import pandas as pd
import SimpleITK as sitk

from hcc_nomogram.datasets.dicom import DicomExport
from hcc_nomogram.errors import InputDataError
from hcc_nomogram.ingest.convert import convert_patient
from hcc_nomogram.ingest.index import IMAGE_FILE, series_table
from hcc_nomogram.ingest.params import PARAMS_FILE, IngestParams
from hcc_nomogram.ingest.pseudonym import assign_ids
from hcc_nomogram.ingest.selection import MaskSource, plan_patient
from hcc_nomogram.parameters import DataContract, typed

logger = logging.getLogger(__name__)

IMAGES_FOLDER = "images"
SUFFIX = ".nii.gz"


def index_dicom_export(dicom_export: DicomExport, ingest: IngestParams) -> pd.DataFrame:
    """Series table of the export (one row per series; unreadable files as rows with ``error``)."""
    ingest = typed(IngestParams, ingest)
    files, _counts = dicom_export.index(ingest.index.progress_every)
    unreadable = files[files["error"] != ""]
    for record in unreadable.head(5).to_dict("records"):
        logger.warning("ingest: unreadable file %s (%s); skipped.", record["path"], record["error"])
    if len(unreadable) > 5:
        logger.warning("ingest: %d more unreadable files; see ingest_index (error column).",
                       len(unreadable) - 5)  # fmt: skip
    return series_table(files, ingest.series.slice_gap_tolerance)


def _check_contract(ingest: IngestParams, data_contract: dict[str, Any]) -> None:
    """The phases and delineations of ``ingest`` must be those of ``data_contract``."""
    dc = typed(DataContract, data_contract)
    for what, names, known in (
        ("phases", set(ingest.phases), set(dc.phases)),
        ("delineations", set(ingest.delineations), set(dc.delineations)),
    ):
        if names - known:
            raise InputDataError(
                f"ingest.{what} names {sorted(names - known)}, which data_contract.{what} "
                f"does not have ({sorted(known)}).",
                file=PARAMS_FILE,
                fix=f"use the {what} of data_contract (conf/base/parameters.yml), "
                "or add them there.",
            )


def plan_ingest(
    ingest_index: pd.DataFrame,
    dicom_export: DicomExport,
    data_contract: dict[str, Any],
    ingest: IngestParams,
) -> pd.DataFrame:
    """One row per DICOM patient: pseudonym, chosen series, mask sources, problems, notes."""
    ingest = typed(IngestParams, ingest)
    _check_contract(ingest, data_contract)
    series = ingest_index[ingest_index["error"] == ""]
    files = series[series["modality"] == IMAGE_FILE]
    series = series[series["modality"] != IMAGE_FILE]
    dicom_ids = sorted(set(series["patient_id"]))
    ids = assign_ids(dicom_ids, ingest.patient_ids, dicom_export.patient_map())
    export_series = set(series["series_uid"])
    rows = []
    for record in ids.to_dict("records"):
        dicom_id = record["dicom_patient_id"]
        plan = plan_patient(
            dicom_id,
            series[series["patient_id"] == dicom_id],
            files,
            export_series,
            ingest,
            primary_delineation=typed(DataContract, data_contract).primary_delineation,
        )
        if not record["patient_id"]:
            plan.problem(
                "patient is not in the mapping table.",
                "add a row for this patient to the mapping table (patient_map).",
            )
        rows.append(
            {
                "dicom_patient_id": dicom_id,
                "patient_id": record["patient_id"],
                "center": record["center"],
                "cohort": record["cohort"],
                "series": json.dumps(plan.series, default=str),
                "masks": json.dumps({f"{d}|{p}": asdict(m) for (d, p), m in plan.masks.items()}),
                "problems": json.dumps(plan.problems),
                "fixes": json.dumps(plan.fixes),
                "notes": json.dumps(plan.notes),
            }
        )
    table = pd.DataFrame(rows)
    n_bad = sum(bool(json.loads(p)) for p in table["problems"]) if len(table) else 0
    logger.info("ingest: %d patients in the export, %d usable, %d with problems (see ingest_qc).",
                len(table), len(table) - n_bad, n_bad)  # fmt: skip
    for row in table.to_dict("records"):
        for problem in json.loads(row["problems"]):
            logger.warning(
                "ingest: patient %s excluded: %s", row["patient_id"] or "(unmapped)", problem
            )
    return table


def _columns(data_contract: dict[str, Any]) -> tuple[dict[str, str], dict[tuple[str, str], str]]:
    dc = typed(DataContract, data_contract)
    phases = dict(dc.phases)
    masks = {
        (d, phase): column for d, cols in dc.delineations.items() for phase, column in cols.items()
    }
    return phases, masks


class _OnePatient:
    """Converts one patient at a time; the previous patient's images are released."""

    def __init__(self, export: DicomExport, plans: dict[str, dict], mask_label: int):
        self._export, self._plans, self._label = export, plans, mask_label
        self._key: str | None = None
        self._images: dict = {}
        self._done = 0

    def get(self, patient_id: str, key: tuple[str, str | None]) -> sitk.Image:
        if patient_id != self._key:
            self._images = {}
            plan = self._plans[patient_id]
            series = {p: s["files"] for p, s in json.loads(plan["series"]).items()}
            series = {p: json.loads(f) if isinstance(f, str) else f for p, f in series.items()}
            masks = {
                tuple(k.split("|")): MaskSource(**v) for k, v in json.loads(plan["masks"]).items()
            }
            self._images = convert_patient(self._export, patient_id, series, masks, self._label)
            self._key = patient_id
            self._done += 1
            if self._done % 10 == 0 or self._done in (1, len(self._plans)):
                logger.info("ingest: converted %d/%d patients (last %s).", self._done,
                            len(self._plans), patient_id)  # fmt: skip
        return self._images[key]


def convert_ingested_patients(
    ingest_plan: pd.DataFrame,
    dicom_export: DicomExport,
    data_contract: dict[str, Any],
    ingest: IngestParams,
) -> dict[str, Callable[[], sitk.Image]]:
    """Lazy partitions ``"<patient_id>/<manifest column>"`` (NIfTI) of every usable patient."""
    ingest = typed(IngestParams, ingest)
    phase_columns, mask_columns = _columns(data_contract)
    usable = ingest_plan[ingest_plan["problems"].map(lambda p: not json.loads(p))]
    plans = {row["patient_id"]: row for row in usable.to_dict("records")}
    cache = _OnePatient(dicom_export, plans, ingest.mask_label)
    out: dict[str, Callable[[], sitk.Image]] = {}
    for pid, plan in sorted(plans.items()):
        for phase in json.loads(plan["series"]):
            out[f"{pid}/{phase_columns[phase]}"] = lambda p=pid, k=(phase, None): cache.get(p, k)
        for key in json.loads(plan["masks"]):
            d, phase = key.split("|")
            out[f"{pid}/{mask_columns[(d, phase)]}"] = lambda p=pid, k=(phase, d): cache.get(p, k)
    return out


def _volume_ml(mask: sitk.Image) -> float:
    voxels = np.count_nonzero(sitk.GetArrayViewFromImage(mask))
    return round(float(voxels) * float(np.prod(mask.GetSpacing())) / 1000.0, 3)


def _qc_series(series: dict[str, dict], phases: list[str]) -> dict[str, Any]:
    """Chosen series per phase: number, description, acquisition time, slices (no UID)."""
    out: dict[str, Any] = {}
    for phase in phases:
        chosen = series.get(phase, {})
        for field in ("series_number", "series_description", "acquisition_time"):
            out[f"{phase}_{field}"] = chosen.get(field, "")
        out[f"{phase}_slices"] = chosen.get("n_slices", "")
    return out


def _manifest_row(
    row: dict[str, Any],
    ingest_images: dict[str, Callable[[], sitk.Image]],
    data_contract: dict[str, Any],
) -> tuple[dict[str, Any], dict[str, float]]:
    """The manifest row of one usable patient, and its mask volumes (``<phase>_<d>_volume_ml``)."""
    phase_columns, mask_columns = _columns(data_contract)
    pid = row["patient_id"]
    dc = typed(DataContract, data_contract)
    manifest = {dc.id_column: pid, dc.center_column: row["center"], dc.cohort_column: row["cohort"]}
    volumes = {}
    for column in phase_columns.values():
        if f"{pid}/{column}" in ingest_images:
            manifest[column] = f"{IMAGES_FOLDER}/{pid}/{column}{SUFFIX}"
    for (delineation, phase), column in mask_columns.items():
        key = f"{pid}/{column}"
        if key in ingest_images:  # else: carried from the other phase, or not delineated
            manifest[column] = f"{IMAGES_FOLDER}/{key}{SUFFIX}"
            volumes[f"{phase}_{delineation}_volume_ml"] = _volume_ml(ingest_images[key]())
    return manifest, volumes


def build_ingest_outputs(
    ingest_plan: pd.DataFrame,
    ingest_images: dict[str, Callable[[], sitk.Image]],
    data_contract: dict[str, Any],
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The cohort manifest (usable patients, paths relative to its folder) and the QC table.

    The QC table has one row per patient of the export: its pseudonym, the series chosen per
    phase (number, description, acquisition time), the masks found and their volume in mL
    (read back from the written files), and the problems and fixes of excluded patients.
    """
    phase_columns, mask_columns = _columns(data_contract)
    manifest_rows, qc_rows, unmapped = [], [], 0
    for row in ingest_plan.sort_values("patient_id").to_dict("records"):
        problems = json.loads(row["problems"])
        masks = json.loads(row["masks"])
        unmapped += not row["patient_id"]  # never show the DICOM PatientID instead
        qc: dict[str, Any] = {
            "patient_id": row["patient_id"] or f"(not mapped {unmapped})",
            "included": not problems,
            **_qc_series(json.loads(row["series"]), list(phase_columns)),
            "masks_found": "; ".join(
                f"{k.replace('|', ' ')}: {v['label']}" for k, v in sorted(masks.items())
            ),
        }
        if not problems:
            manifest, volumes = _manifest_row(row, ingest_images, data_contract)
            manifest_rows.append(manifest)
            qc.update(volumes)
        qc["problems"] = " | ".join(problems)
        qc["fix"] = " | ".join(json.loads(row["fixes"]))
        qc["notes"] = " | ".join(json.loads(row["notes"]))
        qc_rows.append(qc)
    dc = typed(DataContract, data_contract)
    ordered = [
        dc.id_column,
        dc.center_column,
        dc.cohort_column,
        *phase_columns.values(),
        *mask_columns.values(),
    ]
    # every contract column, filled or empty (a delineation found for no patient stays empty)
    return pd.DataFrame(manifest_rows).reindex(columns=ordered), pd.DataFrame(qc_rows)
