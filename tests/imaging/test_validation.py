"""Input checks: each failure names the patient, the file and a potential fix."""

from __future__ import annotations

import numpy as np
import pytest
import SimpleITK as sitk

from hcc_nomogram.errors import EmptyMaskError, ImageGeometryError, InputDataError
from hcc_nomogram.imaging.testing import image_from_array
from hcc_nomogram.imaging.validation import (
    ValidationSettings,
    check_image_geometry,
    check_same_geometry,
    tumour_mask,
)


def _pair(spacing=(0.7, 0.7, 5.0)):
    ct = image_from_array(np.zeros((4, 8, 8), np.float32), spacing, (1.0, 2.0, 3.0))
    mask_array = np.zeros((4, 8, 8), np.uint8)
    mask_array[1, 2:4, 2:4] = 1
    mask = image_from_array(mask_array, spacing, (1.0, 2.0, 3.0))
    return ct, mask


def test_good_pair_passes():
    ct, mask = _pair()
    assert check_image_geometry(ct, patient="P1", file="a.nii.gz") == []
    check_same_geometry(mask, ct, patient="P1", mask_file="m.nii.gz", image_file="a.nii.gz")
    binary, warnings = tumour_mask(mask, 1, patient="P1", file="m.nii.gz")
    assert binary.dtype == np.uint8 and binary.sum() == 4 and warnings == []


@pytest.mark.parametrize(
    ("change", "word"),
    [
        (lambda m: m.SetSpacing((0.7, 0.7, 2.5)), "spacing"),
        (lambda m: m.SetOrigin((1.0, 2.0, 8.0)), "origin"),
        (lambda m: m.SetDirection((1, 0, 0, 0, -1, 0, 0, 0, -1)), "direction"),
    ],
)
def test_mask_off_the_ct_grid_is_a_geometry_error(change, word):
    ct, mask = _pair()
    change(mask)
    with pytest.raises(ImageGeometryError, match=word) as info:
        check_same_geometry(mask, ct, patient="P7", mask_file="m.nii.gz", image_file="a.nii.gz")
    message = str(info.value)
    assert "patient P7" in message and "m.nii.gz" in message and "Potential fix" in message


def test_mask_of_other_size_is_a_geometry_error():
    ct, _ = _pair()
    small = image_from_array(np.ones((3, 8, 8), np.uint8), ct.GetSpacing(), ct.GetOrigin())
    with pytest.raises(ImageGeometryError, match="size"):
        check_same_geometry(small, ct, patient="P1", mask_file="m", image_file="a")


def test_small_differences_within_tolerance_pass():
    ct, mask = _pair()
    mask.SetOrigin((1.0 + 1e-4, 2.0, 3.0))
    check_same_geometry(mask, ct, settings=ValidationSettings())


def test_empty_mask_lists_the_labels_present():
    _, mask = _pair()
    with pytest.raises(EmptyMaskError, match=r"labels present: \[0\]") as info:
        tumour_mask(mask * 0, 1, patient="P2", file="m.nii.gz")
    assert "mask_label" in str(info.value)
    with pytest.raises(EmptyMaskError, match=r"label 2.*\[0, 1\]"):
        tumour_mask(mask, 2, patient="P2", file="m.nii.gz")


def test_other_labels_and_255_binary_masks_are_accepted_with_warnings():
    _, mask = _pair()
    multi = sitk.GetArrayFromImage(mask)
    multi[2, 5, 5] = 3
    binary, warnings = tumour_mask(image_from_array(multi), 1)
    assert binary.sum() == 4 and "[3]" in warnings[0]
    binary, warnings = tumour_mask(mask * 255, 1)
    assert binary.sum() == 4 and "255" in warnings[0]


def test_non_integer_mask_is_rejected():
    ct, _ = _pair()
    ct = ct + 0.5
    with pytest.raises(InputDataError, match="non-integer"):
        tumour_mask(ct, 1, patient="P3", file="m.nii.gz")


def test_insane_spacing_and_direction():
    ct, _ = _pair(spacing=(0.7, 0.7, 50.0))
    with pytest.raises(ImageGeometryError, match="spacing"):
        check_image_geometry(ct, patient="P4", file="a.nii.gz")
    ct, _ = _pair()
    ct.SetDirection((1, 0, 0, 0, 1, 0, 0, 0, -1))  # flipped axis: sane
    assert check_image_geometry(ct) == []
    oblique = sitk.Euler3DTransform()
    oblique.SetRotation(0.0, 0.0, 0.3)
    ct.SetDirection(oblique.GetMatrix())
    assert "oblique" in check_image_geometry(ct, file="a.nii.gz")[0]
