"""Representative slice, centroid, crop geometry and z-scoring on hand-made volumes."""

from __future__ import annotations

import numpy as np
import pytest

from hcc_nomogram.errors import InputDataError
from hcc_nomogram.imaging.crop import (
    CropSettings,
    IntensitySettings,
    crop_centered,
    normalize_intensity,
    sample_window,
    window_grid,
)
from hcc_nomogram.imaging.roi import representative_slice, slice_areas_mm2
from hcc_nomogram.imaging.testing import image_from_array
from hcc_nomogram.parameters import typed


def test_largest_area_slice_and_centroid_with_anisotropic_spacing():
    mask = np.zeros((10, 40, 50), np.uint8)
    mask[3, 10:14, 20:26] = 1  # 24 px
    mask[6, 5:11, 30:35] = 1  # 30 px -> chosen; rows 5..10, cols 30..34
    mask[7, 0:2, 0:2] = 1
    for spacing in [(0.7, 0.7, 5.0), (0.5, 0.9, 1.0), (2.0, 2.0, 0.6)]:
        choice = representative_slice(mask, spacing)
        assert choice.index == 6
        assert choice.centroid_xy == (32.0, 7.5)
        assert choice.area_mm2 == pytest.approx(30 * spacing[0] * spacing[1])
        assert choice.n_slices_with_tumor == 3


def test_ties_go_to_lowest_index_and_offsets_apply():
    mask = np.zeros((6, 8, 8), np.uint8)
    mask[4, 1:3, 1:3] = 1
    mask[2, 5:7, 5:7] = 1
    choice = representative_slice(mask, (1.0, 1.0, 1.0), offset_xyz=(10, 20, 30))
    assert choice.index == 32
    assert choice.centroid_xy == (15.5, 25.5)


def test_two_tumours_in_one_slice_beat_a_bigger_single_slice_area():
    mask = np.zeros((3, 30, 30), np.uint8)
    mask[0, 0:5, 0:5] = 1  # 25 px
    mask[1, 2:6, 2:6] = 1  # 16 px ...
    mask[1, 20:24, 22:26] = 1  # ... + 16 px = 32 px: two tumours, total area wins
    choice = representative_slice(mask, (1.0, 1.0, 1.0))
    assert choice.index == 1
    assert choice.centroid_xy == pytest.approx(((3.5 + 23.5) / 2, (3.5 + 21.5) / 2))
    np.testing.assert_array_equal(slice_areas_mm2(mask, (2, 1, 9)), [50.0, 64.0, 0.0])


def test_empty_mask_is_an_error():
    with pytest.raises(ValueError, match="empty"):
        representative_slice(np.zeros((2, 3, 3), np.uint8), (1, 1, 1))


def test_crop_is_centred_and_padded_with_air_at_the_border():
    array = np.arange(20 * 30, dtype=np.float32).reshape(20, 30)  # rows y, cols x
    out = crop_centered(array, (1.4, 2.5), 8, -1000.0)  # rounds half up -> (x=1, y=3)
    assert out.shape == (8, 8)
    assert out[4, 4] == array[3, 1]
    assert out[0, 0] == -1000.0  # x=-3, y=-1 outside
    np.testing.assert_array_equal(out[1:, 3:], array[0:7, 0:5])
    assert np.all(out[:, :3] == -1000.0) and np.all(out[0] == -1000.0)


def test_window_grid_native_matches_numpy_crop_and_resampling_option():
    rng = np.random.default_rng(0)
    vol = rng.normal(size=(5, 40, 50)).astype(np.float32)
    image = image_from_array(vol, spacing=(0.8, 0.6, 4.0), origin=(-3.0, 5.0, 1.0))
    grid = window_grid(image, 2, (3.2, 30.6), 16)
    via_resample = sample_window(image, grid, fill=-1000.0)
    np.testing.assert_allclose(
        via_resample, crop_centered(vol[2], (3.2, 30.6), 16, -1000.0), atol=1e-5
    )
    fine = window_grid(image, 2, (20.0, 20.0), 16, in_plane_spacing_mm=(0.4, 0.3))
    assert fine.GetSpacing()[:2] == (0.4, 0.3)
    centre = fine.TransformIndexToPhysicalPoint((8, 8, 0))
    assert centre == pytest.approx(image.TransformContinuousIndexToPhysicalPoint((20, 20, 2)))


def test_zscore_whole_crop_roi_and_window():
    crop = np.array([[0.0, 10.0], [20.0, 30.0]], np.float32)
    mask = np.array([[0, 1], [1, 0]], np.uint8)
    out, _ = normalize_intensity(crop, mask)
    assert out.dtype == np.float32
    assert out.mean() == pytest.approx(0.0, abs=1e-6) and out.std() == pytest.approx(1.0)
    roi, _ = normalize_intensity(crop, mask, IntensitySettings(normalization="roi"))
    assert roi[mask == 1].mean() == pytest.approx(0.0, abs=1e-6)
    assert roi[mask == 1].std() == pytest.approx(1.0)
    windowed, _ = normalize_intensity(
        crop, mask, IntensitySettings(window_hu=(5.0, 25.0), normalization="none")
    )
    np.testing.assert_array_equal(windowed, [[5, 10], [20, 25]])
    flat, warnings = normalize_intensity(np.full((2, 2), 7.0), mask)
    assert np.all(flat == 0) and "constant" in warnings[0]


def test_settings_reject_bad_values():
    with pytest.raises(InputDataError, match="normalization"):
        typed(IntensitySettings, {"normalization": "max"})
    with pytest.raises(InputDataError, match="window_hu"):
        typed(IntensitySettings, {"window_hu": [200, -100]})
    assert typed(CropSettings, {"in_plane_spacing_mm": 0.7}).in_plane_spacing_mm == (0.7, 0.7)
