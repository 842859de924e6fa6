"""A Kedro dataset for 3-D medical images, read and written with SimpleITK.

Formats: NIfTI (``.nii``, ``.nii.gz``), NRRD (``.nrrd``, ``.nhdr``), MetaImage (``.mha``,
``.mhd``), and -- for loading only -- a DICOM series directory (or a single DICOM file).
Spacing (mm), origin (mm) and direction cosines are preserved exactly.

Integrity: :func:`read_image` refuses a file that SimpleITK would read with its missing part
silently set to 0 -- a truncated or corrupt ``.nii.gz`` (the gzip stream is checked to its end,
CRC included) or a ``.nii`` shorter than its header declares -- and an image holding NaN or
infinite voxels (:func:`check_complete_file`, :func:`check_finite`). Truncated NRRD and
MetaImage files already make SimpleITK raise.

Privacy: every image returned by :func:`read_image` has its metadata dictionary emptied, so
no DICOM tag (patient name, birth date, IDs, ...) can travel into anything this project
writes. Only pixel data and geometry survive.
"""

from __future__ import annotations

import contextlib
import gzip
import locale
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np
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
    if path.is_file():
        check_complete_file(path, patient=patient)
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
    check_finite(image, patient=patient, file=path)
    return strip_metadata(image)


REEXPORT_FIX = (
    "copy the file again from its source (compare checksums) or re-export it from the original "
    "DICOM; a partial download or a full disk truncates files."
)
_CHUNK = 1 << 20


@dataclass(frozen=True)
class _NiftiLayout:
    """Where a NIfTI-1/-2 file keeps its voxels (from the header)."""

    data_offset: int
    n_bytes: int  # voxels x bytes per voxel
    float_dtype: np.dtype | None  # set for float32/float64 data (checked for NaN/Inf)

    @property
    def data_end(self) -> int:
        return self.data_offset + self.n_bytes


#: NIfTI datatype codes of floating-point voxels: DT_FLOAT32, DT_FLOAT64.
_NIFTI_FLOATS = {16: "f4", 64: "f8"}


def _nifti_layout(header: bytes) -> _NiftiLayout | None:
    """The voxel layout of a NIfTI-1/-2 ``header`` (``None`` when it is not one)."""
    for endian in "<>":
        size = struct.unpack(f"{endian}i", header[:4])[0] if len(header) >= 4 else 0
        if len(header) >= 348 and size == 348:
            datatype, bitpix = struct.unpack(f"{endian}2h", header[70:74])
            dims = struct.unpack(f"{endian}8h", header[40:56])
            offset = int(struct.unpack(f"{endian}f", header[108:112])[0])
            break
        if len(header) >= 540 and size == 540:
            datatype, bitpix = struct.unpack(f"{endian}2h", header[12:16])
            dims = struct.unpack(f"{endian}8q", header[16:80])
            offset = struct.unpack(f"{endian}q", header[168:176])[0]
            break
    else:
        return None
    if not 1 <= dims[0] <= 7 or bitpix <= 0:
        return None
    n_voxels = int(np.prod([max(int(d), 1) for d in dims[1 : dims[0] + 1]], dtype=np.int64))
    code = _NIFTI_FLOATS.get(datatype)
    return _NiftiLayout(
        max(offset, size), n_voxels * bitpix // 8, np.dtype(endian + code) if code else None
    )


class _VoxelScan:
    """Counts the bytes of a NIfTI stream and its non-finite float voxels, chunk by chunk."""

    def __init__(self, header: bytes):
        self.layout = _nifti_layout(header)
        self.length = 0
        self.non_finite = 0
        self._pending = b""
        self.feed(header)

    def feed(self, chunk: bytes) -> None:
        start = self.length
        self.length += len(chunk)
        layout = self.layout
        if layout is None or layout.float_dtype is None:
            return
        lo = max(layout.data_offset - start, 0)
        hi = min(layout.data_end - start, len(chunk))
        if lo >= hi:
            return
        data = self._pending + chunk[lo:hi]
        usable = len(data) - len(data) % layout.float_dtype.itemsize
        values = np.frombuffer(data[:usable], dtype=layout.float_dtype)
        self.non_finite += int(np.count_nonzero(~np.isfinite(values)))
        self._pending = data[usable:]


def check_complete_file(path: str | Path, *, patient: str | None = None) -> None:
    """Raise :class:`InputDataError` when a NIfTI file is truncated, its gzip stream corrupt,
    or its float voxels hold NaN/Inf.

    A gzip file (``.nii.gz``): the whole stream is decompressed (in 1 MiB chunks, nothing
    kept), which detects a cut file (no end-of-stream marker) and flipped bits (CRC); then, as
    for ``.nii``, the data length is compared with what the header declares. Float voxels are
    scanned for NaN/Inf here because SimpleITK's NIfTI reader turns NaN into 0. Other formats
    are left to SimpleITK, which raises on a short read of NRRD and MetaImage data (and keeps
    NaN, which :func:`check_finite` then finds).
    """
    path = Path(path)
    suffix = _suffix(path)
    if suffix not in (".nii", ".nii.gz"):
        return
    with open(path, "rb") as stream:
        compressed = stream.read(2) == b"\x1f\x8b"  # the gzip magic number, whatever the name
    try:
        opener = gzip.open if compressed else open
        with opener(path, "rb") as stream:
            scan = _VoxelScan(stream.read(540))
            while chunk := stream.read(_CHUNK):
                scan.feed(chunk)
    except (EOFError, OSError, zlib.error) as exc:  # gzip.BadGzipFile is an OSError
        raise InputDataError(
            f"the compressed file is truncated or corrupt ({exc}); SimpleITK would read its "
            "missing part as zeros.",
            patient=patient,
            file=path,
            fix=REEXPORT_FIX,
        ) from exc
    layout = scan.layout
    if layout is not None and scan.length < layout.data_end:
        raise InputDataError(
            f"the file holds {scan.length} bytes but its NIfTI header declares "
            f"{layout.data_end} ({100 * scan.length / layout.data_end:.0f}%): it is truncated, "
            "and SimpleITK would read the missing voxels as zeros.",
            patient=patient,
            file=path,
            fix=REEXPORT_FIX,
        )
    if scan.non_finite:
        raise _non_finite_error(f"{scan.non_finite} voxel(s)", patient, path)


def _non_finite_error(what: str, patient, file) -> InputDataError:
    return InputDataError(
        f"{what} are NaN or infinite; a CT holds finite Hounsfield units and a mask finite "
        "labels (SimpleITK would read NaN in a NIfTI file as 0).",
        patient=patient,
        file=file,
        fix="re-export the image; if NaN marks voxels outside the scanned field, replace "
        "it with -1000 (air) for a CT or 0 for a mask before running.",
    )


def check_finite(image: sitk.Image, *, patient: str | None = None, file=None) -> None:
    """Raise :class:`InputDataError` when a floating-point image holds NaN or infinite voxels."""
    array = sitk.GetArrayViewFromImage(image)
    if np.issubdtype(array.dtype, np.floating):
        n_bad = array.size - int(np.count_nonzero(np.isfinite(array)))
        if n_bad:
            first = tuple(int(i) for i in np.argwhere(~np.isfinite(array))[0][::-1])
            raise _non_finite_error(
                f"{n_bad} voxel(s) (first at index x, y, z = {first})", patient, file
            )


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
