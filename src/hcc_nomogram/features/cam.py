"""Class activation maps (CAM) of a linear deep-feature signature.

DenseNet-121's pooled feature ``j`` is the mean of the last activation ``A[:, :, j]``
(layer ``relu``, 7x7x1024) over the 7x7 grid. A signature that is linear in the pooled
features, ``s = sum_j w_j * f_j``, is therefore the mean over the grid of the map
``M = sum_j w_j * A[:, :, j]`` (Zhou et al., CVPR 2016):

    mean(M) = sum(M) / 49 = sum_j w_j * f_j.

:func:`class_activation_map` returns ``M`` (7x7) and :func:`compute_cam` returns it
bilinearly upsampled to the 224x224 crop, in signature units (higher = worse when the
weights are the signature's Cox coefficients, i.e. on the standardised scale the signature
was fitted on, see :func:`signature_feature_weights`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from hcc_nomogram.features.densenet import (
    FEATURE_MAP_SIZE,
    INPUT_SIZE,
    N_FEATURES,
    DenseNetExtractor,
    feature_index,
)


def _weight_vector(feature_weights: Mapping[int, float]) -> np.ndarray:
    w = np.zeros(N_FEATURES, dtype=np.float64)
    for key, value in feature_weights.items():
        j = int(key)
        if not 0 <= j < N_FEATURES:
            raise ValueError(f"feature index {j} outside 0..{N_FEATURES - 1}")
        w[j] += float(value)
    return w


def class_activation_map(
    feature_maps: np.ndarray, feature_weights: Mapping[int, float]
) -> np.ndarray:
    """Weighted sum of the last activation maps: (7, 7, 1024) -> (7, 7); also batched
    (N, 7, 7, 1024)."""
    maps = np.asarray(feature_maps, dtype=np.float64)
    if maps.shape[-1] != N_FEATURES:
        raise ValueError(f"feature maps must end with {N_FEATURES} channels, got {maps.shape}")
    return maps @ _weight_vector(feature_weights)


def upsample(cam: np.ndarray, size: int = INPUT_SIZE) -> np.ndarray:
    """Bilinear (half-pixel centres, edge-clamped) upsampling of a square map to ``size x size``."""
    cam = np.asarray(cam, dtype=np.float64)
    n = cam.shape[0]
    pos = np.clip((np.arange(size) + 0.5) * (n / size) - 0.5, 0, n - 1)
    lo = np.floor(pos).astype(int)
    hi = np.minimum(lo + 1, n - 1)
    t = pos - lo
    rows = cam[lo] * (1 - t)[:, None] + cam[hi] * t[:, None]
    return rows[:, lo] * (1 - t)[None, :] + rows[:, hi] * t[None, :]


def compute_cam(
    extractor: DenseNetExtractor, crop: np.ndarray, feature_weights: Mapping[int, float]
) -> np.ndarray:
    """Class activation map of one z-scored crop, upsampled to the crop (224x224, float64).

    Parameters
    ----------
    extractor : DenseNetExtractor
        The run's extractor (same weights and input mode as the features).
    crop : ndarray (224, 224)
        The z-scored crop of one phase (as in ``preprocessed_crops``).
    feature_weights : mapping {feature index (0..1023) -> weight}
        Signature weight of each pooled feature of that phase; see
        :func:`signature_feature_weights`.

    Returns
    -------
    ndarray (224, 224): its 7x7 source map has mean ``sum_j w_j * f_j`` (the signature
    contribution).
    """
    return compute_cams(extractor, [crop], [feature_weights])[0]


def compute_cams(
    extractor: DenseNetExtractor,
    crops: Sequence[np.ndarray],
    feature_weights: Sequence[Mapping[int, float]],
) -> list[np.ndarray]:
    """:func:`compute_cam` of each crop with its own weights, the DenseNet run once over all
    of them (batches of the extractor's ``batch_size``: a crop's map does not depend on the
    other crops of its batch). A crop without weights gets a map of zeros."""
    if len(crops) != len(feature_weights):
        raise ValueError(f"{len(crops)} crops but {len(feature_weights)} weight mappings")
    used = [i for i, w in enumerate(feature_weights) if w]
    maps = extractor.feature_maps(np.stack([crops[i] for i in used])) if used else []
    cams = [np.zeros(np.shape(crop), dtype=np.float64) for crop in crops]
    for i, feature_map in zip(used, maps, strict=True):
        cams[i] = upsample(class_activation_map(feature_map, feature_weights[i]))
    return cams


def signature_feature_weights(
    weights: Mapping[str, float], phase: str, scale: Mapping[str, float] | None = None
) -> dict[int, float]:
    """Signature coefficients keyed by column (``"arterial_f0042"``) -> ``{42: w}`` for one phase.

    If the signature was fitted on standardised features, pass each feature's standard
    deviation in ``scale`` so that the map is in linear-predictor units (``w / sd``).
    """
    out: dict[int, float] = {}
    prefix = f"{phase}_f"
    for name, w in weights.items():
        if str(name).startswith(prefix):
            out[feature_index(name)] = float(w) / (float(scale[name]) if scale else 1.0)
    return out


__all__ = [
    "FEATURE_MAP_SIZE",
    "class_activation_map",
    "compute_cam",
    "compute_cams",
    "signature_feature_weights",
    "upsample",
]
