"""`ingest`: a DICOM export (PACS/TCIA) -> cohort manifest + images on each CT's grid."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
