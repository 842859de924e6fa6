"""Custom Kedro datasets: medical images (SimpleITK), cohort manifests, NumPy archives."""

from hcc_nomogram.datasets.cohort import CohortManifest, CohortManifestDataset
from hcc_nomogram.datasets.dicom import DicomExport, DicomExportDataset
from hcc_nomogram.datasets.image import (
    SimpleITKImageDataset,
    read_image,
    strip_metadata,
    write_image,
)
from hcc_nomogram.datasets.npz import NpzDataset
from hcc_nomogram.datasets.optional import OptionalDataset, SkippableDataset, Skipped
from hcc_nomogram.datasets.partitions import AtomicPartitionedDataset

__all__ = [
    "AtomicPartitionedDataset",
    "CohortManifest",
    "CohortManifestDataset",
    "DicomExport",
    "DicomExportDataset",
    "NpzDataset",
    "OptionalDataset",
    "SimpleITKImageDataset",
    "SkippableDataset",
    "Skipped",
    "read_image",
    "strip_metadata",
    "write_image",
]
