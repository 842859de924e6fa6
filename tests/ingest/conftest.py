"""Fixtures of the ingest tests: a mixed DICOM export written from two demo patients."""

from __future__ import annotations

from pathlib import Path

import pytest

from hcc_nomogram.demo.dicom_export import write_demo_export
from ingest.dicom_export import PATIENTS


@pytest.fixture(scope="session")
def dicom_tree(tiny_demo_cohort, tmp_path_factory) -> Path:
    """``export/`` (patient 2 RLE-compressed) and ``patient_map.csv`` for two demo patients."""
    root = tmp_path_factory.mktemp("dicom_tree")
    write_demo_export(
        tiny_demo_cohort, root / "export", root / "patient_map.csv", list(PATIENTS), compress=True
    )
    return root
