"""Deterministic synthetic multi-center demo cohort (images, masks, clinical, outcomes).

Quick use::

    from hcc_nomogram.demo import write_tiny_demo_cohort
    folder = write_tiny_demo_cohort(tmp_path)   # manifest.csv, clinical.csv, images/, ground_truth/

See docs/demo_cohort.md.
"""

from hcc_nomogram.demo.clinical import (
    CLINICAL_COLUMNS,
    GROUND_TRUTH_COLUMNS,
    PORTAL_VEIN_LEVELS,
    simulate_patients,
)
from hcc_nomogram.demo.cohort import (
    IMAGE_COLUMNS,
    MANIFEST_COLUMNS,
    clinical_table,
    ground_truth_table,
    image_partitions,
    manifest_table,
    write_demo_cohort,
    write_tiny_demo_cohort,
)
from hcc_nomogram.demo.config import DemoCohortConfig, as_config, default_config, tiny_config
from hcc_nomogram.demo.phantom import render_patient, true_transform

__all__ = [
    "CLINICAL_COLUMNS",
    "GROUND_TRUTH_COLUMNS",
    "IMAGE_COLUMNS",
    "MANIFEST_COLUMNS",
    "PORTAL_VEIN_LEVELS",
    "DemoCohortConfig",
    "as_config",
    "clinical_table",
    "default_config",
    "ground_truth_table",
    "image_partitions",
    "manifest_table",
    "render_patient",
    "simulate_patients",
    "tiny_config",
    "true_transform",
    "write_demo_cohort",
    "write_tiny_demo_cohort",
]
