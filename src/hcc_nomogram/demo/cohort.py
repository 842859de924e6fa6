"""Assemble the demo cohort in the data-contract formats (see docs/architecture.md).

Pure functions turn the patient table of :func:`~hcc_nomogram.demo.clinical.simulate_patients`
into the manifest, the clinical table, the ground-truth table and a dict of *lazy* image
partitions (``"<patient_id>/<manifest column>" -> callable``) for a
``partitions.PartitionedDataset`` of ``SimpleITKImageDataset``: each patient is rendered when
its first partition is saved and dropped when the next patient starts, so memory does not
grow with the cohort. :func:`write_demo_cohort` writes a whole cohort to a folder outside
Kedro (used by the ``tiny_demo_cohort`` test fixture).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import SimpleITK as sitk

from hcc_nomogram.demo.clinical import CLINICAL_COLUMNS, GROUND_TRUTH_COLUMNS, simulate_patients
from hcc_nomogram.demo.config import DemoCohortConfig, as_config, tiny_config
from hcc_nomogram.demo.phantom import DELINEATIONS, PHASES, render_patient

#: Manifest columns in data-contract order; image columns double as file stems.
IMAGE_COLUMNS = [f"{phase}_ct" for phase in PHASES] + [
    f"{phase}_mask_{read}" for phase in PHASES for read in DELINEATIONS
]
MANIFEST_COLUMNS = ["patient_id", "center", "cohort", *IMAGE_COLUMNS]
IMAGES_FOLDER = "images"
IMAGE_SUFFIX = ".nii.gz"


def clinical_table(patients: pd.DataFrame) -> pd.DataFrame:
    """The analysis input ``clinical.csv``: clinical variables and outcomes only."""
    return patients[CLINICAL_COLUMNS].reset_index(drop=True)


def ground_truth_table(patients: pd.DataFrame) -> pd.DataFrame:
    """True linear predictor, image-only latent traits and true transforms (never modelled)."""
    return patients[GROUND_TRUTH_COLUMNS].reset_index(drop=True)


def manifest_table(patients: pd.DataFrame) -> pd.DataFrame:
    """``manifest.csv``: paths relative to its folder, e.g.
    ``images/HCC0001/arterial_ct.nii.gz``."""
    table = patients[["patient_id", "center", "cohort"]].copy()
    for column in IMAGE_COLUMNS:
        table[column] = [
            f"{IMAGES_FOLDER}/{pid}/{column}{IMAGE_SUFFIX}" for pid in table.patient_id
        ]
    return table[MANIFEST_COLUMNS].reset_index(drop=True)


class _OnePatientCache:
    """Renders one patient at a time; the previous patient's images are released."""

    def __init__(self, patients: pd.DataFrame, config: DemoCohortConfig):
        self._rows = {str(r["patient_id"]): r for r in patients.to_dict("records")}
        self._config = config
        self._key: str | None = None
        self._images: dict[str, sitk.Image] = {}

    def get(self, patient_id: str, column: str) -> sitk.Image:
        if patient_id != self._key:
            self._images = {}
            self._images = render_patient(self._rows[patient_id], self._config)
            self._key = patient_id
        return self._images[column]


def image_partitions(
    patients: pd.DataFrame, config: DemoCohortConfig | dict[str, Any]
) -> dict[str, Callable[[], sitk.Image]]:
    """Lazy partitions ``"<patient_id>/<column>" -> () -> sitk.Image`` for every image.

    Partition keys sort patient by patient (as ``PartitionedDataset.save`` iterates), so a
    one-patient cache renders each patient exactly once.
    """
    cache = _OnePatientCache(patients, as_config(config))

    def loader(pid: str, column: str) -> Callable[[], sitk.Image]:
        return lambda: cache.get(pid, column)

    return {
        f"{pid}/{column}": loader(str(pid), column)
        for pid in patients["patient_id"]
        for column in IMAGE_COLUMNS
    }


def write_demo_cohort(
    folder: str | Path, config: DemoCohortConfig | dict[str, Any] | None = None
) -> Path:
    """Write a whole demo cohort to ``folder`` in the same layout as the pipeline does.

    ``folder`` receives ``manifest.csv``, ``clinical.csv``, ``images/<id>/<column>.nii.gz``
    and ``ground_truth/ground_truth.csv``. Returns ``folder`` as a :class:`Path`.
    """
    from kedro_datasets.partitions import PartitionedDataset

    config = as_config(config)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    patients = simulate_patients(config)
    manifest_table(patients).to_csv(folder / "manifest.csv", index=False)
    clinical_table(patients).to_csv(folder / "clinical.csv", index=False)
    (folder / "ground_truth").mkdir(exist_ok=True)
    ground_truth_table(patients).to_csv(folder / "ground_truth" / "ground_truth.csv", index=False)
    PartitionedDataset(
        path=str(folder / IMAGES_FOLDER),
        dataset="hcc_nomogram.datasets.SimpleITKImageDataset",
        filename_suffix=IMAGE_SUFFIX,
    ).save(image_partitions(patients, config))
    return folder


def write_tiny_demo_cohort(folder: str | Path, seed: int = 7) -> Path:
    """A ~20-patient cohort (both cohorts, >= 10 deaths) with small volumes, in seconds."""
    return write_demo_cohort(folder, tiny_config(seed=seed))
