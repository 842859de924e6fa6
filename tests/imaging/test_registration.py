"""Registration recovers a known rigid misalignment; regions and TRE helpers."""

from __future__ import annotations

import json

import numpy as np
import pytest
import SimpleITK as sitk

from hcc_nomogram.errors import InputDataError
from hcc_nomogram.imaging.registration import (
    RegistrationSettings,
    index_region,
    mask_points,
    physical_box,
    register_phases,
    target_registration_error,
)
from hcc_nomogram.imaging.testing import euler, misaligned_pair
from hcc_nomogram.parameters import typed


@pytest.fixture(scope="module")
def pair():
    truth = euler(angles_deg=(3.0, -2.0, 4.0), translation_mm=(4.0, -3.0, 2.5))
    return truth, misaligned_pair(truth, size=(80, 80, 32), spacing=(1.5, 1.5, 2.5))


def _register(pair, **settings):
    truth, ((a_ct, a_mask), (p_ct, p_mask)) = pair
    a, p = sitk.GetArrayFromImage(a_mask), sitk.GetArrayFromImage(p_mask)
    result = register_phases(
        a_ct, p_ct, [(a, a_ct), (p, p_ct)], typed(RegistrationSettings, settings)
    )
    tre = target_registration_error(result.transform, truth, mask_points(a, a_ct))
    return result, tre


def test_rigid_registration_recovers_the_known_transform(pair):
    truth, ((a_ct, a_mask), _) = pair
    result, tre = _register(pair)
    before = target_registration_error(
        sitk.Euler3DTransform(), truth, mask_points(sitk.GetArrayFromImage(a_mask), a_ct)
    )
    assert np.median(before) > 4.0  # the misalignment is real
    assert np.median(tre) < 1.5 and tre.max() < 3.0
    assert result.metric_after < result.metric_before  # Mattes MI: lower is better
    record = result.qc_record()
    assert json.loads(record["transform_parameters"])["rigid"]["rotation_deg"]
    assert record["rigid_translation_x_mm"] == pytest.approx(
        result.parameters["rigid"]["translation_mm"][0]
    )


def test_registration_is_deterministic(pair):
    first, _ = _register(pair)
    second, _ = _register(pair)
    assert first.transform.GetParameters() == second.transform.GetParameters()
    assert first.metric_after == second.metric_after


def test_affine_stage_runs_on_top_of_rigid(pair):
    result, tre = _register(pair, affine={"enabled": True, "iterations": 20})
    assert "affine" in result.parameters and np.median(tre) < 2.0


def test_region_is_the_dilated_mask_box():
    image = sitk.Image([50, 40, 10], sitk.sitkUInt8)
    image.SetSpacing((2.0, 2.0, 5.0))
    mask = np.zeros((10, 40, 50), np.uint8)
    mask[4:6, 10:20, 20:30] = 1
    lo, hi = physical_box(mask, image)
    np.testing.assert_allclose(lo, [39.0, 19.0, 17.5])
    np.testing.assert_allclose(hi, [59.0, 39.0, 27.5])
    start, size = index_region(image, lo, hi, margin_mm=10.0)
    assert start == (15, 5, 2) and size == (21, 21, 7)
    start, size = index_region(image, lo, hi, margin_mm=1000.0)
    assert start == (0, 0, 0) and size == (50, 40, 10)


def test_bad_settings_are_rejected():
    with pytest.raises(InputDataError, match="unknown key"):
        typed(RegistrationSettings, {"sampling": 0.1})
    with pytest.raises(InputDataError, match="sampling_percentage"):
        typed(RegistrationSettings, {"sampling_percentage": 5})
    with pytest.raises(InputDataError, match="different lengths"):
        typed(
            RegistrationSettings,
            {"rigid": {"shrink_factors": [4, 2, 1], "smoothing_sigmas_mm": [1.0]}},
        )


def test_a_stage_given_in_part_keeps_that_stage_defaults():
    settings = typed(RegistrationSettings, {"bspline": {"enabled": True}, "affine": {}})
    assert settings.bspline.enabled and settings.bspline.iterations == 30
    assert settings.bspline.shrink_factors == (2, 1)
    assert settings.bspline.smoothing_sigmas_mm == (1.0, 0.0)
    assert not settings.affine.enabled and settings.affine.iterations == 40
    assert settings.rigid.enabled and settings.rigid.shrink_factors == (4, 2, 1)
