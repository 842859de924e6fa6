"""DenseNet-121 extractor: shapes, batching, weights resolution and provenance (offline)."""

from __future__ import annotations

import logging
import urllib.error
import urllib.request

import h5py
import keras
import numpy as np
import pytest

from hcc_nomogram.errors import InputDataError
from hcc_nomogram.features import densenet
from hcc_nomogram.features.densenet import (
    NOTOP_FILENAME,
    NOTOP_MD5,
    WeightsUnavailableError,
    build_extractor,
    check_crop_stack,
    feature_index,
    feature_names,
    file_md5,
    resolve_weights,
)

pytestmark = pytest.mark.slow


@pytest.fixture
def offline(monkeypatch, tmp_path):
    """An empty Keras cache and a network that refuses at once."""
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    monkeypatch.setattr(
        densenet,
        "keras_cache_candidates",
        lambda: [tmp_path / "keras_home" / "models" / NOTOP_FILENAME],
    )

    def refuse(*args, **kwargs):
        raise urllib.error.URLError("network disabled in tests")

    monkeypatch.setattr(urllib.request, "urlopen", refuse)
    return tmp_path / "keras_home" / "models"


@pytest.fixture(scope="module")
def saved_weights(random_extractor, tmp_path_factory):
    """The session model's weights saved as Keras 3 .weights.h5 and as legacy .h5."""
    from keras.src.legacy.saving import legacy_h5_format

    folder = tmp_path_factory.mktemp("weights")
    new_format = folder / "densenet_random.weights.h5"
    random_extractor.model.save_weights(new_format)
    legacy = folder / "densenet_random_notop.h5"
    with h5py.File(legacy, "w") as handle:
        legacy_h5_format.save_weights_to_hdf5_group(handle, random_extractor.model)
    return {"weights.h5": new_format, "h5": legacy}


def test_features_shape_and_batch_independence(random_extractor, crops):
    feats = random_extractor.extract(crops)  # batch of 3 (batch_size 8)
    assert feats.shape == (3, 1024) and feats.dtype == np.float32
    assert np.isfinite(feats).all() and (feats >= 0).all()  # avg-pooled ReLU output
    assert random_extractor.model.trainable is False


def test_a_crops_features_do_not_depend_on_the_crops_it_is_extracted_with(random_extractor, crops):
    """predict extracts a few new patients' crops, deep_features a whole cohort's: TensorFlow's
    CPU kernels round differently per batch size (~1e-8), so every batch is padded to
    batch_size (8) and the features are bitwise the same alone, in 3, or in 8 + 4."""
    together = random_extractor.extract(crops)
    alone = np.concatenate([random_extractor.extract(crops[i : i + 1]) for i in range(3)])
    many = random_extractor.extract(np.concatenate([crops[::-1]] * 4))  # 12 crops: 8 + 4
    assert alone.tobytes() == together.tobytes()
    assert many.shape == (12, 1024) and many[[2, 1, 0]].tobytes() == together.tobytes()
    assert many[9:12].tobytes() == many[:3].tobytes()


def test_input_modes(random_extractor, crops):
    x = random_extractor.to_input(crops[:1])
    assert x.shape == (1, 224, 224, 3)
    np.testing.assert_array_equal(x[..., 0], x[..., 2])  # replicate: same crop per channel
    np.testing.assert_array_equal(x[0, ..., 1], crops[0])


def test_imagenet_pixels_mode_uses_keras_preprocessing(random_extractor, crops):
    ext = densenet.DenseNetExtractor.__new__(densenet.DenseNetExtractor)
    ext.provenance = densenet.WeightsProvenance(
        "random", "random", False, False, input_mode="imagenet_pixels"
    )
    ext.clip = 3.0
    x = ext.to_input(np.array([[[-5.0, 0.0, 5.0]]], dtype=np.float32))
    means, stds = np.array([0.485, 0.456, 0.406]), np.array([0.229, 0.224, 0.225])
    np.testing.assert_allclose(x[0, 0, 0], (0.0 - means) / stds, rtol=1e-5)
    np.testing.assert_allclose(x[0, 0, 2], (1.0 - means) / stds, rtol=1e-5)


def test_seeded_random_weights_are_reproducible(random_extractor):
    again = build_extractor(resolve_weights("random", seed=1234))
    for mine, theirs in zip(again.model.weights, random_extractor.model.weights, strict=True):
        np.testing.assert_array_equal(np.asarray(mine), np.asarray(theirs))
    assert again.provenance.weights_source == "random" and again.provenance.seed == 1234
    assert again.provenance.is_imagenet is False


@pytest.mark.parametrize("kind", ["weights.h5", "h5"])
def test_local_file_loads_and_md5_mismatch_is_reported(
    kind, saved_weights, random_extractor, caplog
):
    path = saved_weights[kind]
    with caplog.at_level(logging.WARNING):
        resolved = resolve_weights(str(path))
    prov = resolved.provenance
    assert prov.weights_source == "local_file" and prov.file_md5 == file_md5(path)
    assert prov.md5_matches_official is False and prov.is_imagenet is False
    assert "DIFFERS from the official" in caplog.text and NOTOP_MD5 in caplog.text
    loaded = build_extractor(resolved)
    for mine, theirs in zip(loaded.model.weights, random_extractor.model.weights, strict=True):
        np.testing.assert_array_equal(np.asarray(mine), np.asarray(theirs))


def test_weights_of_another_architecture_are_rejected(tmp_path):
    small = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    path = tmp_path / "not_densenet.weights.h5"
    small.save_weights(path)
    with pytest.raises(InputDataError, match="do not match the DenseNet-121") as info:
        build_extractor(resolve_weights(str(path)))
    assert "not_densenet.weights.h5" in str(info.value)


def test_unreadable_and_missing_weights_files(tmp_path):
    garbage = tmp_path / "garbage.h5"
    garbage.write_text("not hdf5")
    with pytest.raises(InputDataError, match=r"garbage\.h5"):
        build_extractor(resolve_weights(str(garbage)))
    with pytest.raises(InputDataError, match="weights file not found"):
        resolve_weights(str(tmp_path / "absent.h5"))


def test_imagenet_offline_without_fallback_fails_fast_with_fix(offline):
    with pytest.raises(WeightsUnavailableError) as info:
        resolve_weights("imagenet", allow_random_fallback=False)
    msg = str(info.value)
    assert "download failed" in msg and NOTOP_FILENAME in msg and NOTOP_MD5 in msg
    assert "deep_features.weights" in msg


def test_imagenet_offline_with_fallback_is_labelled_random(offline, caplog):
    with caplog.at_level(logging.WARNING):
        resolved = resolve_weights("imagenet", allow_random_fallback=True, seed=5)
    prov = resolved.provenance
    assert resolved.path is None
    assert (prov.weights_source, prov.fallback, prov.is_imagenet, prov.seed) == (
        "random",
        True,
        False,
        5,
    )
    assert "FALLING BACK TO RANDOM WEIGHTS" in caplog.text


def test_imagenet_from_cache_is_md5_checked(offline, saved_weights, monkeypatch):
    offline.mkdir(parents=True)
    cached = offline / NOTOP_FILENAME
    cached.write_bytes(saved_weights["h5"].read_bytes())
    # a cached file with the wrong checksum is not trusted
    with pytest.raises(WeightsUnavailableError, match="has MD5"):
        resolve_weights("imagenet")
    # ... and one with the right checksum is used (official MD5 patched to this file's)
    monkeypatch.setattr(densenet, "NOTOP_MD5", file_md5(cached))
    resolved = resolve_weights("imagenet")
    assert resolved.path == cached
    assert resolved.provenance.weights_source == "imagenet" and resolved.provenance.is_imagenet


def test_real_download_attempt_fails_fast(monkeypatch, tmp_path):
    """No network on this machine: the real download attempt must give up quickly."""
    import time

    monkeypatch.setattr(
        densenet, "keras_cache_candidates", lambda: [tmp_path / "models" / NOTOP_FILENAME]
    )
    start = time.monotonic()
    try:
        resolved = resolve_weights("imagenet", allow_random_fallback=True, download_timeout_s=2)
    except Exception as exc:  # pragma: no cover - only reached with a misbehaving network
        pytest.fail(f"resolve_weights raised {exc!r}")
    if resolved.provenance.weights_source == "imagenet":  # pragma: no cover - network present
        pytest.skip("network available: the official file was downloaded")
    assert time.monotonic() - start < 30


def test_crop_validation_errors():
    with pytest.raises(InputDataError, match="shape"):
        check_crop_stack(np.zeros((2, 128, 128)))
    bad = np.zeros((1, 224, 224), dtype=np.float32)
    bad[0, 3, 4] = np.nan
    with pytest.raises(InputDataError, match="NaN"):
        check_crop_stack(bad)


def test_feature_names():
    names = feature_names("arterial")
    assert len(names) == 1024 and names[0] == "arterial_f0000" and names[-1] == "arterial_f1023"
    assert feature_index("portal_f0042") == 42
    with pytest.raises(ValueError, match="not a deep-feature name"):
        feature_index("age")


def test_extractor_settings_validation():
    from hcc_nomogram.features.densenet import ExtractorSettings
    from hcc_nomogram.parameters import typed

    params = {"weights": "random", "seed": 3}
    assert typed(ExtractorSettings, params).seed == 3
    with pytest.raises(ValueError, match="unknown key"):
        typed(ExtractorSettings, {"weight": "imagenet"})
    with pytest.raises(ValueError, match="input_mode"):
        typed(ExtractorSettings, {"input_mode": "rgb"})
    with pytest.raises(ValueError, match="allow_random_fallback"):
        typed(ExtractorSettings, {"allow_random_fallback": "yes"})
