"""A Kedro dataset for 3-D medical images, read and written with SimpleITK.

Formats: NIfTI (``.nii``, ``.nii.gz``), NRRD (``.nrrd``, ``.nhdr``), MetaImage (``.mha``,
``.mhd``), and -- for loading only -- a DICOM series directory (or a single DICOM file).
Spacing (mm), origin (mm) and direction cosines are preserved exactly.

Privacy: every image returned by :func:`read_image` has its metadata dictionary emptied, so
no DICOM tag (patient name, birth date, IDs, ...) can travel into anything this project
writes. Only pixel data and geometry survive.
"""

from __future__ import annotations

import contextlib
import locale
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import Any

import SimpleITK as sitk
from kedro.io import AbstractDataset, DatasetError

from hcc_nomogram.errors import InputDataError

WRITABLE_SUFFIXES = (".nii", ".nii.gz", ".nrrd", ".nhdr", ".mha", ".mhd")
READABLE_SUFFIXES = (*WRITABLE_SUFFIXES, ".dcm", ".ima")


def _suffix(path: Path) -> str:
    name = path.name.lower()
    for suffix in sorted(READABLE_SUFFIXES, key=len, reverse=True):
        if name.endswith(suffix):
            return suffix
    return path.suffix.lower()


@contextlib.contextmanager
def preserve_locale() -> Iterator[None]:
    """Restore the process locale afterwards: ITK's GDCM DICOM I/O resets LC_ALL to "C", which
    would silently switch Python's default text encoding to ASCII for the rest of the run."""
    saved = locale.setlocale(locale.LC_ALL)
    try:
        yield
    finally:
        locale.setlocale(locale.LC_ALL, saved)


def strip_metadata(image: sitk.Image) -> sitk.Image:
    """Remove every metadata key (DICOM tags included) from ``image``, in place; return it."""
    for key in list(image.GetMetaDataKeys()):
        image.EraseMetaData(key)
    return image


def read_image(path: str | Path, *, patient: str | None = None) -> sitk.Image:
    """Read a 3-D image (file or DICOM series directory) with geometry, without metadata.

    Raises :class:`~hcc_nomogram.errors.InputDataError` naming the patient and file when the
    path does not exist or cannot be read.
    """
    path = Path(path)
    if not path.exists():
        raise InputDataError(
            "image file does not exist.",
            patient=patient,
            file=path,
            fix="check the path in the manifest (relative paths are resolved against the "
            "manifest's folder) and that the file was copied completely.",
        )
    try:
        with preserve_locale():
            image = _read_dicom_series(path) if path.is_dir() else sitk.ReadImage(str(path))
    except InputDataError:
        raise
    except RuntimeError as exc:
        raise InputDataError(
            f"SimpleITK cannot read this image ({str(exc).strip().splitlines()[-1]}).",
            patient=patient,
            file=path,
            fix="use NIfTI, NRRD, MHA/MHD or a directory holding one DICOM series; "
            "re-export the file if it is truncated.",
        ) from exc
    if image.GetDimension() != 3:
        raise InputDataError(
            f"expected a 3-D image, got {image.GetDimension()}-D of size {image.GetSize()}.",
            patient=patient,
            file=path,
            fix="provide the whole CT volume (all axial slices), not a single slice.",
        )
    return strip_metadata(image)


def _read_dicom_series(directory: Path) -> sitk.Image:
    reader = sitk.ImageSeriesReader()
    series_ids = reader.GetGDCMSeriesIDs(str(directory))
    if not series_ids:
        raise InputDataError(
            "no DICOM series found in this directory.",
            file=directory,
            fix="point the manifest at the directory that holds the .dcm files of one series.",
        )
    if len(series_ids) > 1:
        raise InputDataError(
            f"the directory holds {len(series_ids)} DICOM series ({', '.join(series_ids)}); "
            "which one is meant is ambiguous.",
            file=directory,
            fix="put each series (arterial, portal-venous) in its own directory.",
        )
    files = reader.GetGDCMSeriesFileNames(str(directory), series_ids[0])
    reader.SetFileNames(files)
    # name the IO: ITK otherwise probes every image-IO factory on each file (HDF5-DIAG noise)
    reader.SetImageIO("GDCMImageIO")
    # Never load the per-slice tag dictionaries: nothing identifying enters memory.
    reader.MetaDataDictionaryArrayUpdateOff()
    reader.LoadPrivateTagsOff()
    return reader.Execute()


def write_image(image: sitk.Image, path: str | Path) -> None:
    """Write ``image`` (metadata stripped) to NIfTI/NRRD/MHA, creating parent folders."""
    path = Path(path)
    if _suffix(path) not in WRITABLE_SUFFIXES:
        raise InputDataError(
            f"cannot write images with suffix {_suffix(path)!r}.",
            file=path,
            fix=f"use one of {', '.join(WRITABLE_SUFFIXES)} (DICOM is read-only here).",
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    # A fresh image holding only pixels + geometry: no metadata can be written, and the
    # caller's image (and its metadata) is left untouched.
    out = sitk.GetImageFromArray(
        sitk.GetArrayViewFromImage(image), isVector=image.GetNumberOfComponentsPerPixel() > 1
    )
    out.CopyInformation(image)
    with preserve_locale():
        sitk.WriteImage(out, str(path), useCompression=True)


class SimpleITKImageDataset(AbstractDataset[sitk.Image, sitk.Image]):
    """Load/save one 3-D image with SimpleITK (local files only).

    Example catalog entry::

        ct_scan:
          type: hcc_nomogram.datasets.SimpleITKImageDataset
          filepath: data/01_raw/patient_001/arterial.nii.gz

    ``filepath`` may be a DICOM series directory for loading. Used inside
    ``partitions.PartitionedDataset`` for per-patient lazy loading.
    """

    def __init__(self, filepath: str, metadata: dict[str, Any] | None = None):
        # PartitionedDataset passes POSIX-style paths; keep them local.
        self._filepath = Path(PurePosixPath(filepath))
        self.metadata = metadata

    def load(self) -> sitk.Image:
        return read_image(self._filepath)

    def save(self, data: sitk.Image) -> None:
        if not isinstance(data, sitk.Image):
            raise DatasetError(
                f"SimpleITKImageDataset({self._filepath}) can only save SimpleITK images, "
                f"got {type(data).__name__}."
            )
        write_image(data, self._filepath)

    def _exists(self) -> bool:
        return self._filepath.exists()

    def _describe(self) -> dict[str, Any]:
        return {"filepath": str(self._filepath)}
