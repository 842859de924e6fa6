"""Two-phase CT phantom: determinism, geometry, misalignment, delineations, visible traits."""

from __future__ import annotations

import numpy as np
import pytest
import SimpleITK as sitk

from hcc_nomogram.demo import (
    IMAGE_COLUMNS,
    default_config,
    render_patient,
    simulate_patients,
    tiny_config,
    true_transform,
)
from hcc_nomogram.errors import InputDataError


@pytest.fixture(scope="module")
def default_cohort():
    config = default_config()
    return config, simulate_patients(config)


@pytest.fixture(scope="module")
def rendered(default_cohort):
    """Four default-resolution patients, one per scanner plus a small tumour."""
    config, patients = default_cohort
    picks = [0, 70, 150, int(patients.tumor_size_cm.idxmin())]
    return [(patients.iloc[i], render_patient(patients.iloc[i].to_dict(), config)) for i in picks]


def arr(image: sitk.Image) -> np.ndarray:
    return sitk.GetArrayFromImage(image)


def dice(a: np.ndarray, b: np.ndarray) -> float:
    return 2 * np.logical_and(a, b).sum() / (a.sum() + b.sum())


def centroid_mm(mask: sitk.Image) -> np.ndarray:
    idx = np.argwhere(arr(mask) > 0).mean(axis=0)[::-1]  # x, y, z index
    return np.array(mask.TransformContinuousIndexToPhysicalPoint(idx.tolist()))


def test_same_patient_renders_identically():
    config = tiny_config()
    row = simulate_patients(config).iloc[3].to_dict()
    a, b = render_patient(row, config), render_patient(row, config)
    assert set(a) == set(IMAGE_COLUMNS)
    for key in a:
        np.testing.assert_array_equal(arr(a[key]), arr(b[key]))


def test_geometry_types_and_scanner_differences(rendered, default_cohort):
    config, _ = default_cohort
    for row, images in rendered:
        ct = images["arterial_ct"]
        assert ct.GetPixelID() == sitk.sitkInt16
        assert ct.GetSpacing()[2] == next(c for c in config.centers
                                          if c.name == row.center).slice_thickness_mm  # fmt: skip
        for key in IMAGE_COLUMNS:
            img = images[key]
            assert img.GetSize() == ct.GetSize()
            assert img.GetSpacing() == ct.GetSpacing()
            assert img.GetOrigin() == ct.GetOrigin()
            if "mask" in key:
                assert img.GetPixelID() == sitk.sitkUInt8
                assert set(np.unique(arr(img))) == {0, 1}
    slice_thickness = {images["arterial_ct"].GetSpacing()[2] for _, images in rendered}
    assert len(slice_thickness) >= 3


def test_tumour_size_column_matches_drawn_tumour(rendered):
    for row, images in rendered:
        mask = images["arterial_mask_r1a"]
        m = arr(mask)
        z = int(np.argmax(m.sum(axis=(1, 2))))
        pts = np.argwhere(m[z] > 0) * mask.GetSpacing()[0]
        diffs = pts[:, None, :] - pts[None, ::7, :]
        diameter_cm = np.sqrt((diffs**2).sum(-1)).max() / 10
        assert diameter_cm == pytest.approx(row.tumor_size_cm, rel=0.12, abs=0.3)


def test_portal_phase_is_misaligned_by_the_saved_transform(rendered):
    for row, images in rendered:
        transform = true_transform(row)
        angles = np.degrees([row[f"transform_angle_{a}_rad"] for a in "xyz"])
        shift = np.linalg.norm([row[f"transform_translation_{a}_mm"] for a in "xyz"])
        assert np.abs(angles).max() <= 5.0 + 1e-9 and 3.0 <= shift <= 10.0 + 1e-9
        art = centroid_mm(images["arterial_mask_r1a"])
        por = centroid_mm(images["portal_mask_r1a"])
        # Unregistered: the tumour moved; mapped with the true transform: it lines up.
        moved = np.linalg.norm(por - art)
        tre = np.linalg.norm(np.array(transform.TransformPoint(art.tolist())) - por)
        assert moved > 2.0
        assert tre < min(4.0, 0.6 * moved)  # readers' own shifts are ~1 mm


def test_delineations_differ_like_readers(rendered):
    scores = []
    for _, images in rendered:
        for phase in ("arterial", "portal"):
            masks = {r: arr(images[f"{phase}_mask_{r}"]) for r in ("r1a", "r1b", "r2")}
            assert not np.array_equal(masks["r1a"], masks["r1b"])
            scores += [dice(masks["r1a"], masks["r1b"]), dice(masks["r1a"], masks["r2"])]
    assert 0.75 <= min(scores) and max(scores) <= 0.97
    assert 0.80 <= np.mean(scores) <= 0.95


def test_tumour_enhancement_and_image_only_traits_are_visible(default_cohort):
    """Arterial hyper-enhancement, portal washout; necrosis lowers tumour HU at its largest
    slice."""
    config, patients = default_cohort
    train = patients[patients.tumor_size_cm.between(4, 9)]
    low = train.sort_values("necrotic_fraction").iloc[0]
    high = train.sort_values("necrotic_fraction").iloc[-1]
    means = {}
    for label, row in (("low", low), ("high", high)):
        images = render_patient(row.to_dict(), config)
        m = arr(images["arterial_mask_r1a"]) > 0
        z = int(np.argmax(m.sum(axis=(1, 2))))
        a, p = arr(images["arterial_ct"]).astype(float), arr(images["portal_ct"]).astype(float)
        pm = arr(images["portal_mask_r1a"]) > 0
        means[label] = (a[z][m[z]].mean(), p[pm].mean())
    assert means["low"][0] > means["low"][1] + 10  # washout of a non-necrotic tumour
    assert means["low"][0] > means["high"][0] + 20  # necrosis visible at the largest slice


def test_unknown_center_raises_input_data_error(default_cohort):
    config, patients = default_cohort
    row = patients.iloc[0].to_dict() | {"center": "Z"}
    with pytest.raises(InputDataError, match="center 'Z' is not configured"):
        render_patient(row, config)
