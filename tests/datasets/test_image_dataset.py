"""SimpleITKImageDataset: round trip of every format, geometry preserved, privacy, errors."""

from __future__ import annotations

import json
import locale
from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk

from hcc_nomogram.datasets import SimpleITKImageDataset, read_image, write_image
from hcc_nomogram.datasets.image import preserve_locale
from hcc_nomogram.errors import InputDataError

REPO_ROOT = Path(__file__).resolve().parents[2]
HCC048 = REPO_ROOT.parent / "shared" / "data" / "hcc048_portal_venous_dicom"


def _oblique_image(dtype=np.int16) -> sitk.Image:
    rng = np.random.default_rng(0)
    arr = rng.integers(-1000, 400, size=(7, 9, 11)).astype(dtype)  # z, y, x
    img = sitk.GetImageFromArray(arr)
    img.SetSpacing((0.7, 0.8, 2.5))
    img.SetOrigin((-120.5, 33.25, 7.0))
    angle = np.deg2rad(10)
    c, s = np.cos(angle), np.sin(angle)
    img.SetDirection((c, -s, 0.0, s, c, 0.0, 0.0, 0.0, 1.0))
    img.SetMetaData("0010|0010", "Doe^Jane")  # a patient-name tag must never be written
    return img


@pytest.mark.parametrize("suffix", [".nii", ".nii.gz", ".nrrd", ".mha", ".mhd"])
def test_round_trip_keeps_pixels_and_geometry(tmp_path, suffix):
    img = _oblique_image()
    ds = SimpleITKImageDataset(filepath=str(tmp_path / f"ct{suffix}"))
    ds.save(img)
    assert ds.exists()
    back = ds.load()
    np.testing.assert_array_equal(sitk.GetArrayFromImage(back), sitk.GetArrayFromImage(img))
    np.testing.assert_allclose(back.GetSpacing(), img.GetSpacing(), atol=1e-5)
    np.testing.assert_allclose(back.GetOrigin(), img.GetOrigin(), atol=1e-4)
    np.testing.assert_allclose(back.GetDirection(), img.GetDirection(), atol=1e-5)
    assert back.GetPixelID() == img.GetPixelID()
    # The caller's image is not mutated by saving, the stored one has no patient tags.
    assert "0010|0010" in img.GetMetaDataKeys()
    assert "0010|0010" not in back.GetMetaDataKeys()
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    assert b"Doe^Jane" not in raw


def test_mask_round_trip_uint8(tmp_path):
    mask = sitk.Cast(_oblique_image() > 0, sitk.sitkUInt8)
    path = tmp_path / "mask.nii.gz"
    write_image(mask, path)
    back = read_image(path)
    assert back.GetPixelID() == sitk.sitkUInt8
    np.testing.assert_array_equal(sitk.GetArrayFromImage(back), sitk.GetArrayFromImage(mask))


def test_missing_file_error_names_patient_file_and_fix(tmp_path):
    missing = tmp_path / "nope" / "arterial.nii.gz"
    with pytest.raises(InputDataError) as err:
        read_image(missing, patient="HCC0007")
    msg = str(err.value)
    assert "HCC0007" in msg and "arterial.nii.gz" in msg and "does not exist" in msg
    assert "Potential fix" in msg


def test_unreadable_file_gives_clear_error(tmp_path):
    bad = tmp_path / "broken.nii.gz"
    bad.write_bytes(b"this is not an image")
    with pytest.raises(InputDataError, match=r"cannot read this image.*Potential fix"):
        read_image(bad, patient="P1")


def test_two_dimensional_image_is_rejected(tmp_path):
    path = tmp_path / "slice.nii.gz"
    sitk.WriteImage(sitk.Image(8, 8, sitk.sitkInt16), str(path))
    with pytest.raises(InputDataError, match="expected a 3-D image"):
        read_image(path, patient="P2")


def test_dicom_cannot_be_written(tmp_path):
    with pytest.raises(InputDataError, match="cannot write"):
        write_image(_oblique_image(), tmp_path / "x.dcm")


def test_dicom_series_directory_round_trip(tmp_path):
    """Write a small synthetic DICOM series with SimpleITK, read it back as a directory."""
    img = sitk.Cast(_oblique_image(), sitk.sitkInt16)
    img.SetDirection((1, 0, 0, 0, 1, 0, 0, 0, 1))
    series = tmp_path / "series"
    series.mkdir()
    writer = sitk.ImageFileWriter()
    writer.KeepOriginalImageUIDOn()
    for z in range(img.GetDepth()):
        sl = img[:, :, z]
        for tag, value in {
            "0010|0010": "Doe^Jane",
            "0010|0020": "MRN-123456",
            "0010|0030": "19500101",
            "0008|0060": "CT",
            "0020|000d": "1.2.826.0.1.3680043.2.1125.1",
            "0020|000e": "1.2.826.0.1.3680043.2.1125.2",
            "0020|0013": str(z + 1),
            "0020|0032": "\\".join(map(str, img.TransformIndexToPhysicalPoint((0, 0, z)))),
            "0020|0037": "1\\0\\0\\0\\1\\0",
        }.items():
            sl.SetMetaData(tag, value)
        writer.SetFileName(str(series / f"{z:03d}.dcm"))
        with preserve_locale():  # GDCM's writer resets the C locale to "C"
            writer.Execute(sl)
    encoding = locale.getpreferredencoding(False)
    back = read_image(series, patient="P3")
    assert locale.getpreferredencoding(False) == encoding  # reading keeps the locale
    assert back.GetSize() == img.GetSize()
    np.testing.assert_allclose(back.GetSpacing(), img.GetSpacing(), atol=1e-3)
    np.testing.assert_array_equal(sitk.GetArrayFromImage(back), sitk.GetArrayFromImage(img))
    assert back.GetMetaDataKeys() == ()
    # Writing what was read carries no identifying tag into the output.
    out = tmp_path / "copy.nrrd"
    write_image(back, out)
    data = out.read_bytes()
    for secret in (b"Doe^Jane", b"MRN-123456", b"19500101"):
        assert secret not in data


def test_empty_directory_is_not_a_dicom_series(tmp_path):
    with pytest.raises(InputDataError, match="no DICOM series"):
        read_image(tmp_path, patient="P4")


@pytest.mark.skipif(not HCC048.is_dir(), reason=f"real DICOM series not present at {HCC048}")
def test_real_hcc048_dicom_series_geometry_and_hu(tmp_path):
    img = read_image(HCC048, patient="HCC_048")
    assert img.GetSize() == (512, 512, 89)
    sx, sy, sz = img.GetSpacing()
    assert sx == pytest.approx(0.703, abs=0.01) and sy == pytest.approx(0.703, abs=0.01)
    assert sz == pytest.approx(2.5, abs=0.05)
    arr = sitk.GetArrayViewFromImage(img)
    assert arr.min() >= -3100 and arr.max() <= 4000
    # Liver in the portal-venous phase: the soft-tissue mode of the central region is ~100 HU.
    centre = arr[30:60, 150:350, 100:300].astype(float)
    soft = centre[(centre > 40) & (centre < 200)]
    assert soft.size > 10_000
    hist, edges = np.histogram(soft, bins=32, range=(40, 200))
    mode = edges[np.argmax(hist)] + 2.5
    assert 70 <= mode <= 150
    assert img.GetMetaDataKeys() == ()
    out = tmp_path / "hcc048.nii.gz"
    write_image(img, out)
    assert json.dumps(list(read_image(out).GetMetaDataKeys())) == "[]"
