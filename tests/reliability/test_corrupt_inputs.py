"""Defects 2 and 3: corrupt images and files that are not masks must be refused, not read.

SimpleITK reads a truncated ``.nii.gz`` with its missing part as 0 and turns NaN voxels of a
NIfTI file into 0, without a warning; any image holding the value 1 used to become a "tumour".
"""

from __future__ import annotations

import numpy as np
import pytest
import SimpleITK as sitk
from kedro.io import DatasetError
from project_helpers import run_project

from hcc_nomogram.datasets.image import read_image
from hcc_nomogram.errors import EmptyMaskError, InputDataError
from hcc_nomogram.failure import project_error
from hcc_nomogram.imaging.validation import ValidationSettings, tumour_mask
from reliability.cohorts import digest, image_path, truncate


def _ct(seed: int = 0) -> sitk.Image:
    rng = np.random.default_rng(seed)
    return sitk.GetImageFromArray((rng.normal(40, 60, size=(12, 40, 40))).astype(np.int16))


@pytest.mark.parametrize("suffix", [".nii.gz", ".nii"])
def test_truncated_nifti_is_refused(tmp_path, suffix):
    path = tmp_path / f"ct{suffix}"
    sitk.WriteImage(_ct(), str(path))
    truncate(path, 0.4)
    # what SimpleITK alone does: a volume whose missing part is 0, no error
    silent = sitk.GetArrayFromImage(sitk.ReadImage(str(path)))
    assert silent.shape == (12, 40, 40)
    with pytest.raises(InputDataError, match="truncated") as info:
        read_image(path, patient="HCC0001")
    assert info.value.patient == "HCC0001" and info.value.file == path
    assert "Potential fix" in str(info.value)


def test_bit_flipped_gzip_is_refused(tmp_path):
    path = tmp_path / "ct.nii.gz"
    sitk.WriteImage(_ct(), str(path))
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(InputDataError, match="corrupt"):
        read_image(path, patient="HCC0001")


@pytest.mark.parametrize("suffix", [".nii.gz", ".nii", ".mha", ".nrrd"])
def test_nan_voxels_are_refused_in_every_format(tmp_path, suffix):
    array = np.zeros((6, 8, 8), dtype=np.float32)
    array[2, 3, 4] = np.nan
    array[3, 3, 4] = np.inf
    path = tmp_path / f"ct{suffix}"
    sitk.WriteImage(sitk.GetImageFromArray(array), str(path))
    with pytest.raises(InputDataError, match=r"2 voxel\(s\).*NaN or infinite"):
        read_image(path, patient="HCC0001")


def test_intact_files_still_read_exactly(tmp_path):
    image = _ct()
    for suffix in (".nii.gz", ".nii", ".mha", ".nrrd"):
        sitk.WriteImage(image, str(tmp_path / f"ct{suffix}"))
        np.testing.assert_array_equal(
            sitk.GetArrayFromImage(read_image(tmp_path / f"ct{suffix}")),
            sitk.GetArrayFromImage(image),
        )


# ----- masks that are not masks -----------------------------------------------------------------
def test_ct_given_as_mask_is_refused():
    ct = _ct()
    assert (sitk.GetArrayViewFromImage(ct) == 1).any()  # holds the tumour label somewhere
    with pytest.raises(InputDataError, match="negative values") as info:
        tumour_mask(ct, 1, patient="HCC0001", file="ct.nii.gz")
    assert "not the CT" in info.value.fix


def test_mask_with_many_labels_is_refused():
    labels = np.arange(12 * 40 * 40, dtype=np.int16).reshape(12, 40, 40) % 20
    with pytest.raises(InputDataError, match="19 distinct non-zero values"):
        tumour_mask(sitk.GetImageFromArray(labels), 1, patient="HCC0001", file="m.nii.gz")


def test_mask_covering_most_of_the_volume_is_refused():
    mask = np.ones((4, 10, 10), dtype=np.uint8)
    mask[0] = 0  # 75% "tumour"
    with pytest.raises(InputDataError, match="covers 75% of the volume"):
        tumour_mask(sitk.GetImageFromArray(mask), 1, patient="HCC0001", file="m.nii.gz")
    # the limit is a parameter
    out, _ = tumour_mask(
        sitk.GetImageFromArray(mask), 1, settings=ValidationSettings(max_tumour_fraction=0.8)
    )
    assert out.sum() == 300


def test_a_real_mask_is_still_accepted():
    mask = np.zeros((4, 10, 10), dtype=np.uint8)
    mask[1:3, 2:5, 2:6] = 1
    mask[0, 0, 0] = 2  # another label, reported as a warning
    out, warnings = tumour_mask(sitk.GetImageFromArray(mask), 1, file="m.nii.gz")
    assert out.sum() == 24 and "labels [2]" in warnings[0]
    with pytest.raises(EmptyMaskError):
        tumour_mask(sitk.GetImageFromArray(np.zeros((4, 10, 10), np.uint8)), 1)


# ----- real Kedro sessions ---------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.parametrize(
    ("column", "breaker", "expected"),
    [
        ("portal_mask_r1a", "truncate", "truncated"),  # the tumour would shrink
        ("arterial_mask_r2", "ct", "negative values"),  # a CT named as a mask
    ],
)
def test_preprocessing_run_refuses_bad_images(project, cohort, column, breaker, expected):
    target = image_path(cohort, "HCC0004", column)
    if breaker == "truncate":
        truncate(target)
    else:
        target.write_bytes(image_path(cohort, "HCC0004", "arterial_ct").read_bytes())
    with pytest.raises(InputDataError, match=expected) as info:
        run_project(project, ["preprocessing"])
    assert info.value.patient == "HCC0004" and str(info.value.file) == str(target)
    assert digest(project / "data") == {}  # the input checks run before any output


@pytest.mark.slow
def test_nan_in_ct_stops_the_run_naming_the_patient(project, cohort):
    target = image_path(cohort, "HCC0002", "arterial_ct")
    image = sitk.ReadImage(str(target), sitk.sitkFloat32)
    array = sitk.GetArrayFromImage(image)
    array[0, 0, :5] = np.nan
    out = sitk.GetImageFromArray(array)
    out.CopyInformation(image)
    sitk.WriteImage(out, str(target))
    with pytest.raises(DatasetError) as info:  # found while cropping (crops are saved lazily)
        run_project(project, ["preprocessing"])
    error = project_error(info.value)
    assert error is not None and error.patient == "HCC0002" and "NaN" in str(error)
    assert not (project / "data" / "03_primary" / "crops").exists()
