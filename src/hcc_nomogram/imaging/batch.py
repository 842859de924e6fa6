"""Lazy, one-patient-at-a-time preprocessing of a cohort, for ``PartitionedDataset`` outputs.

:func:`lazy_preprocessing` returns two ``{patient_id: callable}`` dictionaries -- crops and QC
records -- that a ``PartitionedDataset`` calls while saving, so that only one patient's images
and crops are in memory at any time, whatever the cohort size. Both callables of a patient
share one computation: Kedro saves a node's outputs in their declared order and partitions in
sorted order, so when the crops are declared first each patient is computed once, its crops
handed to the writer and dropped, and only its small QC record kept for the second output.
(Were the QC records saved first -- e.g. Kedro's ``--async`` saving -- a patient's crops would
wait in memory until written; results are the same.)
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from hcc_nomogram.errors import InputDataError
from hcc_nomogram.imaging.patient import (
    Contract,
    PatientSource,
    PreprocessingSettings,
    excluded_record,
    preprocess_patient,
)

logger = logging.getLogger(__name__)


class _Progress:
    def __init__(self, total: int, every: int):
        self.total, self.every, self.done = total, max(1, every), 0
        self.start: float | None = None
        self._lock = threading.Lock()

    def tick(self, patient_id: str, seconds: float) -> None:
        with self._lock:
            if self.start is None:
                self.start = time.perf_counter() - seconds
            self.done += 1
            elapsed = time.perf_counter() - self.start
            eta = elapsed / self.done * (self.total - self.done)
            if self.done % self.every == 0 or self.done in (1, self.total):
                logger.info(
                    "preprocessing: %d/%d patients done (last %s, %.1f s); "
                    "%.1f s/patient, ETA %s",
                    self.done,
                    self.total,
                    patient_id,
                    seconds,
                    elapsed / self.done,
                    time.strftime("%H:%M:%S", time.gmtime(eta)),
                )


class _PatientJob:
    def __init__(self, source, contract, settings, progress):
        self.source, self.contract, self.settings, self.progress = (
            source, contract, settings, progress
        )
        self._crops: dict[str, np.ndarray] | None = None
        self._qc: dict[str, Any] | None = None
        self._handed_over = False
        self._lock = threading.Lock()

    def _run(self) -> None:
        if self._qc is None:
            t0 = time.perf_counter()
            try:
                self._crops, self._qc = preprocess_patient(
                    self.source, self.contract, self.settings
                )
            except InputDataError as error:  # found only while making the crops
                if self.settings.on_bad_patient == "raise":
                    raise
                logger.warning(
                    "preprocessing: excluding patient %s: %s", self.source.patient_id, error
                )
                self._crops, self._qc = None, excluded_record(self.source.patient_id, error)
            self.progress.tick(self.source.patient_id, time.perf_counter() - t0)

    def crops(self) -> dict[str, np.ndarray] | None:
        """The patient's crops, handed over once; ``None`` for a patient excluded while its
        crops were made (no partition is written, its QC record says why)."""
        with self._lock:
            if self._handed_over:
                raise RuntimeError(f"crops of patient {self.source.patient_id} requested twice.")
            self._run()
            crops, self._crops = self._crops, None  # hand over, keep nothing large
            self._handed_over = True
            return crops

    def qc(self) -> dict[str, Any]:
        with self._lock:
            self._run()
            return self._qc


def lazy_preprocessing(
    sources: list[PatientSource],
    excluded: dict[str, dict[str, Any]],
    contract: Contract,
    settings: PreprocessingSettings,
) -> tuple[dict[str, Callable[[], dict]], dict[str, Callable[[], dict]]]:
    """``(crops, qc_records)``: lazy callables for ``sources``; ``excluded`` patients get only
    their (given) QC record, never a crop file. With ``on_bad_patient: exclude`` a patient whose
    error appears only while its crops are made (e.g. a registration ITK refuses) is excluded
    the same way: its crop callable gives ``None`` (no partition written, see
    :class:`~hcc_nomogram.datasets.AtomicPartitionedDataset`)."""
    progress = _Progress(len(sources), settings.log_every)
    crops: dict[str, Callable[[], dict]] = {}
    records: dict[str, Callable[[], dict]] = {}
    for source in sources:
        job = _PatientJob(source, contract, settings, progress)
        crops[source.patient_id] = job.crops
        records[source.patient_id] = job.qc
    for patient_id, record in excluded.items():
        records[patient_id] = lambda record=record: record
    return crops, records
