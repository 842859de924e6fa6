"""A DICOM export folder as a Kedro input, with a cached header index.

``load()`` returns a :class:`DicomExport`: the folder, an optional patient mapping table, and
:meth:`DicomExport.index`, which indexes the headers (pixel data never read; see
:mod:`hcc_nomogram.ingest.index`) reusing the per-file cache at ``cache_path`` for every file
whose size and modification time are unchanged. The cache holds header fields only (IDs and
UIDs, no names or dates of birth) and stays next to the project's intermediate data.

Example::

    dicom_export:
      type: hcc_nomogram.datasets.DicomExportDataset
      path: data/01_raw/dicom
      cache_path: data/02_intermediate/ingest/file_index.parquet
      patient_map: data/01_raw/dicom_patient_map.csv
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import pandas as pd
from kedro.io import AbstractDataset, DatasetError

from hcc_nomogram.errors import InputDataError


@dataclass(frozen=True)
class DicomExport:
    root: Path
    cache_path: Path | None = None
    patient_map_path: Path | None = None

    def file(self, relative: str) -> Path:
        return self.root / PurePosixPath(relative)

    def patient_map(self) -> pd.DataFrame | None:
        if self.patient_map_path is None:
            return None
        if not self.patient_map_path.exists():
            raise InputDataError(
                "the patient mapping table does not exist.",
                file=self.patient_map_path,
                fix="create it (columns dicom_patient_id, patient_id[, center, cohort]) or "
                "remove patient_map from the dicom_export catalog entry.",
            )
        return pd.read_csv(self.patient_map_path, dtype=str, keep_default_na=False)

    def index(self, progress_every: int = 1000) -> tuple[pd.DataFrame, dict[str, int]]:
        """Per-file header table (cached) and counts; see :func:`ingest.index.index_files`."""
        from hcc_nomogram.ingest.index import index_files

        cache = None
        if self.cache_path is not None and self.cache_path.exists():
            cache = pd.read_parquet(self.cache_path)
        files, counts = index_files(self.root, cache, progress_every)
        if self.cache_path is not None:
            self.cache_path.parent.mkdir(parents=True, exist_ok=True)
            files.to_parquet(self.cache_path, index=False)
        return files, counts


class DicomExportDataset(AbstractDataset[DicomExport, None]):
    """A read-only DICOM export folder (any layout; see :class:`DicomExport`)."""

    def __init__(
        self,
        path: str,
        cache_path: str | None = None,
        patient_map: str | None = None,
        metadata: dict[str, Any] | None = None,
    ):
        self._path = Path(PurePosixPath(path))
        self._cache = Path(PurePosixPath(cache_path)) if cache_path else None
        self._map = Path(PurePosixPath(patient_map)) if patient_map else None
        self.metadata = metadata

    def load(self) -> DicomExport:
        if not self._path.is_dir():
            raise InputDataError(
                "the DICOM export folder does not exist.",
                file=self._path,
                fix="copy the export there, or set the path of dicom_export in "
                "conf/local/catalog.yml (see docs/ingest.md).",
            )
        return DicomExport(self._path.resolve(), self._cache, self._map)

    def save(self, data: None) -> None:
        raise DatasetError("DicomExportDataset is read-only: the export is never modified.")

    def _exists(self) -> bool:
        return self._path.is_dir()

    def _describe(self) -> dict[str, Any]:
        return {"path": str(self._path), "cache_path": str(self._cache)}
