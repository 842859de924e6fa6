"""Cohort files in the data-contract formats, and the `demo_cohort` pipeline itself."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import SimpleITK as sitk
from kedro.io import DataCatalog, MemoryDataset
from kedro.runner import SequentialRunner
from kedro_datasets.pandas import CSVDataset
from kedro_datasets.partitions import PartitionedDataset

from hcc_nomogram.datasets import CohortManifestDataset
from hcc_nomogram.demo import (
    CLINICAL_COLUMNS,
    IMAGE_COLUMNS,
    MANIFEST_COLUMNS,
    image_partitions,
    simulate_patients,
    tiny_config,
    write_tiny_demo_cohort,
)
from hcc_nomogram.pipelines.demo_cohort import create_pipeline


def test_tiny_fixture_manifest_resolves(tiny_demo_cohort):
    manifest = CohortManifestDataset(str(tiny_demo_cohort / "manifest.csv")).load()
    assert list(manifest.table.columns) == MANIFEST_COLUMNS
    assert all(manifest.path(p, c).exists() for p in manifest.patient_ids for c in IMAGE_COLUMNS)
    assert manifest.table.arterial_ct.iloc[0] == "images/HCC0001/arterial_ct.nii.gz"
    pid = manifest.patient_ids[0]
    ct, mask = manifest.image(pid, "arterial_ct"), manifest.image(pid, "arterial_mask_r1a")
    assert ct.GetPixelID() == sitk.sitkInt16 and mask.GetPixelID() == sitk.sitkUInt8
    assert ct.GetSize() == mask.GetSize() and ct.GetSpacing() == mask.GetSpacing()
    assert sitk.GetArrayViewFromImage(mask).sum() > 0


def test_tiny_fixture_clinical_table(tiny_demo_cohort):
    clinical = pd.read_csv(tiny_demo_cohort / "clinical.csv", dtype={"patient_id": str})
    assert list(clinical.columns) == CLINICAL_COLUMNS
    assert set(clinical.cohort) == {"training", "validation"}
    assert clinical.os_event.sum() >= 10
    truth = pd.read_csv(tiny_demo_cohort / "ground_truth" / "ground_truth.csv")
    assert list(truth.patient_id.astype(str)) == list(clinical.patient_id)


def test_tiny_cohort_is_fast_and_deterministic(tmp_path):
    start = time.perf_counter()
    a = write_tiny_demo_cohort(tmp_path / "a")
    assert time.perf_counter() - start < 30
    b = write_tiny_demo_cohort(tmp_path / "b")
    for name in ("manifest.csv", "clinical.csv", "ground_truth/ground_truth.csv"):
        assert (a / name).read_bytes() == (b / name).read_bytes()
    for rel in ("images/HCC0005/portal_ct.nii.gz", "images/HCC0005/portal_mask_r2.nii.gz"):
        np.testing.assert_array_equal(
            sitk.GetArrayFromImage(sitk.ReadImage(str(a / rel))),
            sitk.GetArrayFromImage(sitk.ReadImage(str(b / rel))),
        )


def test_image_partitions_are_lazy():
    config = tiny_config()
    patients = simulate_patients(config)
    partitions = image_partitions(patients, config)
    assert len(partitions) == len(patients) * len(IMAGE_COLUMNS)
    assert all(callable(v) for v in partitions.values())
    assert partitions["HCC0002/portal_mask_r1b"]().GetPixelID() == sitk.sitkUInt8


def test_pipeline_runs_on_a_temporary_catalog(tmp_path):
    root = tmp_path / "demo"
    catalog = DataCatalog(
        {
            "params:demo_cohort": MemoryDataset(tiny_config(seed=11).model_dump()),
            "demo_manifest": CSVDataset(filepath=str(root / "manifest.csv"),
                                        save_args={"index": False}),
            "demo_clinical": CSVDataset(filepath=str(root / "clinical.csv"),
                                        save_args={"index": False}),
            "demo_ground_truth": CSVDataset(filepath=str(root / "ground_truth/ground_truth.csv"),
                                            save_args={"index": False}),
            "demo_images": PartitionedDataset(
                path=str(root / "images"),
                dataset="hcc_nomogram.datasets.SimpleITKImageDataset",
                filename_suffix=".nii.gz",
            ),
        }
    )  # fmt: skip
    SequentialRunner().run(create_pipeline(), catalog)
    manifest = CohortManifestDataset(str(root / "manifest.csv")).load()
    assert len(manifest.patient_ids) == tiny_config().n_patients
    assert all(manifest.path(p, c).exists() for p in manifest.patient_ids for c in IMAGE_COLUMNS)
    assert len(list((root / "images").rglob("*.nii.gz"))) == 8 * len(manifest.patient_ids)
