"""The cohort manifest: one row per patient, naming the CT phases and tumour masks.

:class:`CohortManifestDataset` loads a CSV or Excel manifest and returns a
:class:`CohortManifest`, which loads images *lazily*, one patient at a time (the
manifest-driven equivalent of a ``PartitionedDataset``), so a cohort of thousands of CTs
never has to sit in memory. Relative image paths are resolved against the manifest's folder.
See ``docs/data_contract.md``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path, PurePosixPath
from typing import Any

import pandas as pd
import SimpleITK as sitk
from kedro.io import AbstractDataset

from hcc_nomogram.datasets.image import read_image
from hcc_nomogram.datasets.tables import check_patient_ids
from hcc_nomogram.errors import InputDataError, require_columns


@dataclass(frozen=True)
class CohortManifest:
    """A validated manifest table plus the folder its relative paths are resolved against."""

    table: pd.DataFrame
    root: Path
    id_column: str = "patient_id"
    source: str = "manifest"

    def __post_init__(self):
        self.require_columns([self.id_column])
        ids = self.table[self.id_column].astype(str)
        if ids.str.strip().eq("").any() or self.table[self.id_column].isna().any():
            rows = list(
                self.table.index[ids.str.strip().eq("") | self.table[self.id_column].isna()]
            )
            raise InputDataError(
                f"empty patient ID in row(s) {rows}.",
                file=self.source,
                column=self.id_column,
                fix="give every row a unique, non-empty patient ID.",
            )
        check_patient_ids(self.table, self.id_column, source=self.source)
        dup = ids[ids.duplicated()].unique().tolist()
        if dup:
            raise InputDataError(
                f"duplicate patient ID(s) {dup}: each patient must appear exactly once.",
                patient=", ".join(dup),
                file=self.source,
                column=self.id_column,
                fix="remove or rename the duplicated rows (one row per patient).",
            )

    @property
    def patient_ids(self) -> list[str]:
        return self.table[self.id_column].astype(str).tolist()

    def require_columns(self, columns: Iterable[str]) -> None:
        require_columns(
            self.table,
            columns,
            name="manifest",
            file=self.source,
            fix="add the columns, or map your own column names in "
            "conf/base/parameters.yml (data_contract).",
        )

    @cached_property
    def _positions(self) -> dict[str, int]:
        """Patient ID -> row position (IDs are unique, checked above); built on first use."""
        return {pid: i for i, pid in enumerate(self.table[self.id_column].astype(str))}

    def row(self, patient_id: str) -> pd.Series:
        position = self._positions.get(str(patient_id))
        if position is None:
            raise InputDataError(
                "patient is not in the manifest.",
                patient=patient_id,
                file=self.source,
                fix="check the patient ID spelling.",
            )
        return self.table.iloc[position]

    def path(self, patient_id: str, column: str) -> Path:
        self.require_columns([column])
        value = self.row(patient_id)[column]
        if pd.isna(value) or str(value).strip() == "":
            raise InputDataError(
                "no path given for this image.",
                patient=patient_id,
                file=self.source,
                column=column,
                fix="fill in the path of the image (relative to the manifest's folder).",
            )
        path = Path(PurePosixPath(str(value).strip()))
        return path if path.is_absolute() else self.root / path

    def has_path(self, patient_id: str, column: str) -> bool:
        """Whether ``column`` exists and is filled in for ``patient_id`` (empty = not given)."""
        if column not in self.table.columns:
            return False
        value = self.row(patient_id)[column]
        return not (pd.isna(value) or str(value).strip() == "")

    def subset(self, patient_ids: Iterable[str]) -> CohortManifest:
        """The manifest of ``patient_ids`` only (same root): what one Dask task carries."""
        keep = set(map(str, patient_ids))
        table = self.table[self.table[self.id_column].astype(str).isin(keep)].reset_index(drop=True)
        return CohortManifest(table, self.root, self.id_column, self.source)

    def image(self, patient_id: str, column: str) -> sitk.Image:
        """Load one image of one patient (geometry kept, metadata stripped)."""
        return read_image(self.path(patient_id, column), patient=patient_id)


class CohortManifestDataset(AbstractDataset[CohortManifest, pd.DataFrame]):
    """Load a manifest (``.csv``, ``.xlsx``/``.xls``) as a lazily-loading :class:`CohortManifest`.

    Saving writes the table (CSV/Excel by suffix); paths inside should be relative to the
    manifest's folder.

    Example::

        cohort_manifest:
          type: hcc_nomogram.datasets.CohortManifestDataset
          filepath: data/01_raw/demo/manifest.csv
          id_column: patient_id
    """

    def __init__(
        self,
        filepath: str,
        id_column: str = "patient_id",
        load_args: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
    ):
        self._filepath = Path(PurePosixPath(filepath))
        self._id_column = id_column
        self._load_args = dict(load_args or {})
        self.metadata = metadata

    def load(self) -> CohortManifest:
        if not self._filepath.exists():
            raise InputDataError(
                "manifest file does not exist.",
                file=self._filepath,
                fix="create it as described in docs/data_contract.md, or run "
                "`kedro run --pipelines=demo_cohort` to generate the demo cohort.",
            )
        if self._filepath.suffix.lower() in (".xlsx", ".xls"):
            table = pd.read_excel(self._filepath, dtype={self._id_column: str}, **self._load_args)
        else:
            table = pd.read_csv(self._filepath, dtype={self._id_column: str}, **self._load_args)
        return CohortManifest(
            table, self._filepath.parent.resolve(), self._id_column, str(self._filepath)
        )

    def save(self, data: pd.DataFrame | CohortManifest) -> None:
        table = data.table if isinstance(data, CohortManifest) else data
        self._filepath.parent.mkdir(parents=True, exist_ok=True)
        if self._filepath.suffix.lower() in (".xlsx", ".xls"):
            table.to_excel(self._filepath, index=False)
        else:
            table.to_csv(self._filepath, index=False)

    def _exists(self) -> bool:
        return self._filepath.exists()

    def _describe(self) -> dict[str, Any]:
        return {"filepath": str(self._filepath), "id_column": self._id_column}
