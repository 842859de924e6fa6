"""Pseudonymous patient IDs for the manifest: never the DICOM PatientID by accident.

Three sources (``ingest.patient_ids.source``):

- ``mapping``: a table the user keeps with the export (columns ``dicom_patient_id``,
  ``patient_id`` and optionally ``center``, ``cohort``); patients missing from it are excluded
  and listed in the QC table;
- ``salted_hash``: ``prefix`` + the first ``hash_length`` hex digits of
  SHA-256(salt + PatientID), the salt read from an environment variable (never stored);
- ``patient_id``: the DICOM PatientID itself (only for exports already pseudonymised).
"""

from __future__ import annotations

import hashlib
import os

import pandas as pd

from hcc_nomogram.errors import InputDataError
from hcc_nomogram.ingest.params import PARAMS_FILE, PatientIdParams

MAP_COLUMNS = ("dicom_patient_id", "patient_id")


def salted_hash(value: str, salt: str, length: int) -> str:
    """First ``length`` hex digits of SHA-256 of ``salt + value`` (UTF-8)."""
    return hashlib.sha256((salt + value).encode("utf-8")).hexdigest()[:length]


def assign_ids(
    dicom_ids: list[str], params: PatientIdParams, mapping: pd.DataFrame | None
) -> pd.DataFrame:
    """``dicom_patient_id, patient_id, center, cohort`` (patient_id empty where unmapped)."""
    out = pd.DataFrame({"dicom_patient_id": dicom_ids})
    out["center"], out["cohort"] = params.default_center, params.default_cohort
    if params.source == "patient_id":
        out["patient_id"] = out["dicom_patient_id"]
    elif params.source == "salted_hash":
        salt = os.environ.get(params.salt_env, "")
        if not salt:
            raise InputDataError(
                f"ingest.patient_ids.source is salted_hash but the environment variable "
                f"{params.salt_env} holding the salt is not set.",
                file=PARAMS_FILE,
                fix=f"export {params.salt_env}=<a long secret string> (keep it: the same salt "
                "gives the same pseudonyms), or use a mapping table.",
            )
        out["patient_id"] = [
            params.prefix + salted_hash(i, salt, params.hash_length)
            for i in out["dicom_patient_id"]
        ]
    else:
        if mapping is None:
            raise InputDataError(
                "ingest.patient_ids.source is mapping but no mapping table is configured.",
                file="conf/base/catalog_ingest.yml",
                fix="set patient_map on the dicom_export dataset (CSV with columns "
                "dicom_patient_id, patient_id[, center, cohort]), or use source: salted_hash.",
            )
        missing = [c for c in MAP_COLUMNS if c not in mapping.columns]
        if missing:
            raise InputDataError(
                f"the patient mapping table lacks column(s) {missing}; "
                f"it has {list(mapping.columns)}.",
                column=", ".join(missing),
                fix="name the columns dicom_patient_id and patient_id (optional: center, cohort).",
            )
        table = (
            mapping.astype(str).drop_duplicates("dicom_patient_id").set_index("dicom_patient_id")
        )
        out["patient_id"] = out["dicom_patient_id"].map(table["patient_id"]).fillna("")
        for column in ("center", "cohort"):
            if column in table.columns:
                out[column] = out["dicom_patient_id"].map(table[column]).fillna(out[column])
    dup = out.loc[out["patient_id"].ne("") & out["patient_id"].duplicated(), "patient_id"]
    if len(dup):
        raise InputDataError(
            f"pseudonym(s) {sorted(set(dup))[:5]} are given to several patients.",
            fix="give every patient a unique pseudonym in the mapping table "
            "(or a longer hash_length).",
        )
    return out
