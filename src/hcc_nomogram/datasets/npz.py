"""A Kedro dataset for a dictionary of NumPy arrays stored as one compressed ``.npz`` file."""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np
from kedro.io import AbstractDataset, DatasetError


class NpzDataset(AbstractDataset[dict[str, np.ndarray], dict[str, np.ndarray]]):
    """Load/save ``{name: array}`` as a compressed NumPy archive (no pickled objects)."""

    def __init__(self, filepath: str, metadata: dict[str, Any] | None = None):
        self._filepath = Path(PurePosixPath(filepath))
        self.metadata = metadata

    def load(self) -> dict[str, np.ndarray]:
        with np.load(self._filepath, allow_pickle=False) as archive:
            return {key: archive[key] for key in archive.files}

    def save(self, data: dict[str, np.ndarray]) -> None:
        if not isinstance(data, dict):
            raise DatasetError(f"NpzDataset({self._filepath}) expects a dict of arrays.")
        self._filepath.parent.mkdir(parents=True, exist_ok=True)
        tmp = self._filepath.with_name(self._filepath.name + ".tmp.npz")
        np.savez_compressed(tmp, **{k: np.asarray(v) for k, v in data.items()})
        tmp.replace(self._filepath)  # atomic: a failed save never leaves half a file

    def _exists(self) -> bool:
        return self._filepath.exists()

    def _describe(self) -> dict[str, Any]:
        return {"filepath": str(self._filepath)}
