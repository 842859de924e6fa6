"""Nodes of the `demo_cohort` pipeline: pure functions, no I/O.

The heavy lifting lives in :mod:`hcc_nomogram.demo`; images are returned as lazy callables
that ``PartitionedDataset`` evaluates one at a time while saving.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import SimpleITK as sitk

from hcc_nomogram.demo import (
    DemoCohortConfig,
    as_config,
    clinical_table,
    ground_truth_table,
    image_partitions,
    manifest_table,
    simulate_patients,
)


def simulate_demo_patients(config: DemoCohortConfig) -> pd.DataFrame:
    """All patient-level variables (clinical, outcomes, latent traits, transforms)."""
    return simulate_patients(as_config(config))


def extract_clinical_table(demo_patients: pd.DataFrame) -> pd.DataFrame:
    return clinical_table(demo_patients)


def extract_ground_truth(demo_patients: pd.DataFrame) -> pd.DataFrame:
    return ground_truth_table(demo_patients)


def build_manifest(demo_patients: pd.DataFrame) -> pd.DataFrame:
    return manifest_table(demo_patients)


def render_demo_images(
    demo_patients: pd.DataFrame, config: DemoCohortConfig
) -> dict[str, Callable[[], sitk.Image]]:
    """Lazy ``"<patient_id>/<column>"`` partitions of every CT and mask."""
    return image_partitions(demo_patients, as_config(config))
