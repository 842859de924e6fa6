"""Class activation maps: the CAM identity and the upsampling."""

from __future__ import annotations

import numpy as np
import pytest

from hcc_nomogram.features.cam import (
    class_activation_map,
    compute_cam,
    compute_cams,
    signature_feature_weights,
    upsample,
)

pytestmark = pytest.mark.slow


def test_cam_identity_mean_of_map_equals_signature_contribution(random_extractor, crops):
    rng = np.random.default_rng(3)
    idx = rng.choice(1024, size=12, replace=False)
    weights = {int(j): float(w) for j, w in zip(idx, rng.normal(size=12))}
    maps = random_extractor.feature_maps(crops[:2])
    pooled = random_extractor.extract(crops[:2])
    assert maps.shape == (2, 7, 7, 1024)
    # pooled features are the mean of the last activation over the 7x7 grid
    np.testing.assert_allclose(maps.mean(axis=(1, 2)), pooled, rtol=1e-4, atol=1e-5)
    for i in range(2):
        cam = class_activation_map(maps[i], weights)
        contribution = sum(w * pooled[i, j] for j, w in weights.items())
        assert cam.shape == (7, 7)
        assert cam.sum() / 49 == pytest.approx(contribution, rel=1e-4, abs=1e-6)


def test_compute_cam_shape_and_consistency(random_extractor, crops):
    weights = {0: 1.0, 5: -0.5, 1023: 2.0}
    cam = compute_cam(random_extractor, crops[0], weights)
    assert cam.shape == (224, 224) and np.isfinite(cam).all()
    low = class_activation_map(random_extractor.feature_maps(crops[0])[0], weights)
    np.testing.assert_allclose(cam, upsample(low), rtol=1e-4, atol=1e-6)


def test_cams_of_several_crops_in_one_call_equal_one_crop_at_a_time(random_extractor, crops):
    weights = [{0: 1.0, 5: -0.5}, {}, {1023: 2.0, 7: 0.3}]
    three = [crops[0], crops[1], crops[2]]
    together = compute_cams(random_extractor, three, weights)
    assert np.array_equal(together[1], np.zeros((224, 224)))  # no weights: no model call
    for i in (0, 2):  # bitwise: a crop's map does not depend on the others in its batch
        assert np.array_equal(together[i], compute_cam(random_extractor, three[i], weights[i]))
    with pytest.raises(ValueError, match="3 crops but 2"):
        compute_cams(random_extractor, three, weights[:2])


def test_upsample_is_bilinear_with_half_pixel_centres():
    np.testing.assert_allclose(upsample(np.full((7, 7), 2.5)), 2.5)
    ramp = np.tile(np.arange(7.0), (7, 1))
    up = upsample(ramp, 224)
    assert up.shape == (224, 224)
    assert up[0, 0] == 0.0 and up[0, -1] == 6.0  # edges clamp
    assert (up[0, 111] + up[0, 112]) / 2 == pytest.approx(3.0)  # centre of source pixel 3
    assert np.all(np.diff(up[0]) >= 0)


def test_signature_feature_weights_and_bad_index():
    w = signature_feature_weights(
        {"arterial_f0007": 0.5, "portal_f0001": 1.0, "age": 3.0},
        "arterial",
        scale={"arterial_f0007": 2.0},
    )
    assert w == {7: 0.25}
    with pytest.raises(ValueError, match="outside"):
        class_activation_map(np.zeros((7, 7, 1024)), {2000: 1.0})
