"""A crash-safe ``PartitionedDataset``: a run's partitions replace the previous ones only when
the whole save succeeded.

``partitions.PartitionedDataset(overwrite=True)`` deletes its folder *before* writing the first
partition, so a run that fails on patient k (or is killed) leaves k-1 partitions and loses the
previous complete result. :class:`AtomicPartitionedDataset` writes every partition of a save
into a staging folder next to the target (``<path>.staging-<random>``), then swaps it in:

1. rename ``<path>`` to ``<path>.previous-<random>`` (skipped when there is no previous result),
2. rename the staging folder to ``<path>``,
3. delete the previous folder.

Both renames are ``os.rename`` of folders on one file system (atomic). A failure or a kill
before step 1 leaves the previous result untouched (the staging folder is removed by the next
save); a kill between steps 1 and 2 leaves ``<path>`` absent and the previous result in
``<path>.previous-*``, which the next load, existence check or save moves back.

Partitions are still written one at a time, and lazily: a ``{partition_id: callable}`` value is
called just before its partition is written, so one patient's crops are in memory at any time
(:mod:`hcc_nomogram.imaging.batch`). A callable (or value) that gives ``None`` writes no
partition: e.g. a patient excluded while its crops were being made.

Local file systems only (the crops are large per-patient files on a local or mounted disk).
"""

from __future__ import annotations

import logging
import os
import shutil
import uuid
from pathlib import Path
from typing import Any

from kedro.io import DatasetError
from kedro_datasets.partitions import PartitionedDataset

logger = logging.getLogger(__name__)

STAGING = ".staging-"
PREVIOUS = ".previous-"


class AtomicPartitionedDataset(PartitionedDataset):
    """``PartitionedDataset`` whose save replaces the whole folder atomically (see module doc).

    Always replaces (like ``overwrite: true``): partitions of patients no longer in the cohort do
    not survive a successful run. Catalog entry::

        preprocessed_crops:
          type: hcc_nomogram.datasets.AtomicPartitionedDataset
          path: data/03_primary/crops
          dataset: hcc_nomogram.datasets.NpzDataset
          filename_suffix: .npz
    """

    def __init__(self, *, path: str, **kwargs: Any):
        if kwargs.pop("overwrite", True) is not True:
            raise DatasetError(
                f"AtomicPartitionedDataset({path}) always replaces its folder; "
                "remove 'overwrite: false' or use partitions.PartitionedDataset."
            )
        super().__init__(path=path, overwrite=False, **kwargs)
        if self._protocol not in ("file", None):
            raise DatasetError(
                f"AtomicPartitionedDataset({path}) supports local paths only, got protocol "
                f"{self._protocol!r}."
            )
        self._target = Path(path)

    # ----- recovery ---------------------------------------------------------------------------
    def _siblings(self, marker: str) -> list[Path]:
        parent = self._target.parent
        if not parent.exists():
            return []
        return sorted(parent.glob(f"{self._target.name}{marker}*"))

    def _recover(self) -> None:
        """Put back a previous result left aside by a save killed between its two renames."""
        previous = self._siblings(PREVIOUS)
        if not self._target.exists() and previous:
            os.rename(previous[-1], self._target)
            logger.warning(
                "%s: restored the previous complete result (%s) after an interrupted save.",
                self._target,
                previous[-1].name,
            )
            previous = previous[:-1]
        for stale in previous + self._siblings(STAGING):
            shutil.rmtree(stale, ignore_errors=True)

    def load(self):
        self._recover()
        return super().load()

    def _exists(self) -> bool:
        self._recover()
        return super()._exists()

    # ----- save -------------------------------------------------------------------------------
    def save(self, data: dict[str, Any]) -> None:
        self._recover()
        token = uuid.uuid4().hex[:12]
        staging = self._target.with_name(f"{self._target.name}{STAGING}{token}")
        staging.mkdir(parents=True)
        try:
            for partition_id, partition_data in sorted(data.items()):
                value = partition_data() if callable(partition_data) else partition_data
                if value is None:
                    continue
                kwargs = dict(self._dataset_config)
                kwargs[self._filepath_arg] = self._partition_path(staging, partition_id)
                self._dataset_type(**kwargs).save(value)
                del value  # one partition in memory at a time
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        self._swap_in(staging, token)
        self._invalidate_caches()

    def _partition_path(self, folder: Path, partition_id: str) -> str:
        path = folder / f"{partition_id}{self._filename_suffix}"
        if folder.resolve() not in path.resolve().parents:
            raise DatasetError(f"partition id {partition_id!r} leaves the folder {folder}.")
        return str(path)

    def _swap_in(self, staging: Path, token: str) -> None:
        previous = self._target.with_name(f"{self._target.name}{PREVIOUS}{token}")
        had_previous = self._target.exists()
        if had_previous:
            os.rename(self._target, previous)
        os.rename(staging, self._target)
        if had_previous:
            shutil.rmtree(previous, ignore_errors=True)
