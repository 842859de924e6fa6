"""Shared fixtures: one random-weights DenseNet-121 per test session (building one takes ~2 s,
each crop ~0.1 s on 2 CPU cores), and small random crops. No test needs the network."""

from __future__ import annotations

import numpy as np
import pytest

from hcc_nomogram.features.densenet import make_extractor

SEED = 1234


@pytest.fixture(scope="session")
def random_extractor():
    return make_extractor({"weights": "random", "seed": SEED, "batch_size": 8})


@pytest.fixture(scope="session")
def crops() -> np.ndarray:
    """Three z-scored 224x224 crops: a bright blob on noise, at three positions."""
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[:224, :224]
    out = []
    for cy, cx in ((112, 112), (70, 150), (160, 60)):
        img = 2.0 * np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * 25.0**2))
        img = img + 0.3 * rng.standard_normal((224, 224))
        out.append(((img - img.mean()) / img.std()).astype(np.float32))
    return np.stack(out)
