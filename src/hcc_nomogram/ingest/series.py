"""Read one CT series from an explicit list of files, quietly and without any DICOM tag.

The files of a series come from the index (:mod:`hcc_nomogram.ingest.index`), already in slice
order, so a folder that mixes many series is never scanned by ITK. The GDCM image IO is set
explicitly: ITK then does not probe every image-IO factory on every file (the probing is what
prints ``HDF5-DIAG: Error detected in HDF5`` lines on successful reads), and ITK's warning
output is switched off for the read. The returned image has no metadata (see
:func:`hcc_nomogram.datasets.image.strip_metadata`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from pathlib import Path

import SimpleITK as sitk

from hcc_nomogram.datasets.image import preserve_locale, strip_metadata
from hcc_nomogram.errors import InputDataError


@contextlib.contextmanager
def quiet_itk() -> Iterator[None]:
    """Switch ITK's global warning display off for the block (restored afterwards)."""
    previous = sitk.ProcessObject.GetGlobalWarningDisplay()
    sitk.ProcessObject.SetGlobalWarningDisplay(False)
    try:
        yield
    finally:
        sitk.ProcessObject.SetGlobalWarningDisplay(previous)


def read_series(files: Sequence[str | Path], *, patient: str | None = None) -> sitk.Image:
    """A 3-D image of the given DICOM files (one series, in slice order), metadata stripped."""
    files = [str(f) for f in files]
    reader = sitk.ImageSeriesReader()
    reader.SetImageIO("GDCMImageIO")
    reader.SetFileNames(files)
    reader.MetaDataDictionaryArrayUpdateOff()
    reader.LoadPrivateTagsOff()
    try:
        with preserve_locale(), quiet_itk():
            image = reader.Execute()
    except RuntimeError as exc:
        raise InputDataError(
            f"the DICOM series cannot be read ({str(exc).strip().splitlines()[-1]}).",
            patient=patient,
            file=Path(files[0]).parent if files else None,
            fix="re-export the series; if it is compressed, check that the decoders of "
            "requirements-lock.txt are installed.",
        ) from exc
    return strip_metadata(image)
