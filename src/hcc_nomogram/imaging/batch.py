"""Lazy preprocessing of a cohort for ``PartitionedDataset`` outputs, on the compute engine.

:func:`lazy_preprocessing` returns two ``{patient_id: callable}`` dictionaries -- crops and QC
records -- that an :class:`~hcc_nomogram.datasets.AtomicPartitionedDataset` calls while saving.
The first call starts the run's :mod:`hcc_nomogram.compute` engine (synchronous, a local Dask
cluster, or an existing one), which runs :func:`preprocess_task` for every patient in sorted
patient-ID order -- the order the dataset writes partitions in -- with a bounded number of
patients in flight, and hands the results back in that order; no patient's volumes ever leave
the worker that read them. Each patient runs once, and the two outputs do not depend on the
order Kedro saves them in: saved crops first (the declared order), each patient's crops are
written as they arrive and dropped, only its small QC record is kept for the second output;
saved QC records first (or both at once, Kedro's ``--async``), the crops not yet written wait
in a temporary folder beyond the last ``_Stream.MAX_HELD`` patients, so memory stays bounded.
At the first error (``on_bad_patient: raise``) the patients still in flight are cancelled.
"""

from __future__ import annotations

import functools
import logging
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from hcc_nomogram.compute import ComputeSettings, run_engine
from hcc_nomogram.errors import InputDataError
from hcc_nomogram.imaging.patient import (
    PatientSource,
    PreprocessingSettings,
    excluded_record,
    preprocess_patient,
    validate_patient,
)
from hcc_nomogram.imaging.validation import ValidationSettings
from hcc_nomogram.parameters import DataContract

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
                    "preprocessing: %d/%d patients done (last %s, %.1f s); %.1f s/patient, ETA %s",
                    self.done,
                    self.total,
                    patient_id,
                    seconds,
                    elapsed / self.done,
                    time.strftime("%H:%M:%S", time.gmtime(eta)),
                )


def preprocess_task(
    source: PatientSource, contract: DataContract, settings: PreprocessingSettings
) -> tuple[dict[str, np.ndarray] | None, dict[str, Any] | None, InputDataError | None, float]:
    """``(crops, qc, error, seconds)`` of one patient: the pure function run on a worker.

    An :class:`InputDataError` is returned, not raised, so the client decides (raise or exclude)
    and reports it exactly as a run in one process would."""
    t0 = time.perf_counter()
    try:
        crops, qc = preprocess_patient(source, contract, settings)
        return crops, qc, None, time.perf_counter() - t0
    except InputDataError as error:
        return None, None, error, time.perf_counter() - t0


def validate_task(
    source: PatientSource, contract: DataContract, settings: ValidationSettings
) -> tuple[list[str], InputDataError | None]:
    """``(warnings, error)`` of one patient's input checks: the pure function run on a worker."""
    try:
        return validate_patient(source, contract, settings), None
    except InputDataError as error:
        return [], error


def validate_cohort(
    sources: list[PatientSource],
    contract: DataContract,
    settings: ValidationSettings,
    compute: ComputeSettings | None = None,
) -> Iterator[tuple[str, list[str], InputDataError | None]]:
    """``(patient_id, warnings, error)`` of every source, in the order of ``sources``, on the
    run's engine (:func:`~hcc_nomogram.compute.run_engine`)."""
    task = functools.partial(validate_task, contract=contract, settings=settings)
    engine = run_engine(compute or ComputeSettings(mode="synchronous"))
    logger.info("preprocessing: checking %d patients on %s", len(sources), engine.describe())
    results = engine.map_ordered(task, sources)
    try:
        for source, (warnings, error) in zip(sources, results, strict=True):
            yield source.patient_id, warnings, error
    finally:
        results.close()  # cancels the checks still in flight when the caller stops early


class _PatientJob:
    def __init__(self, source: PatientSource, stream: _Stream):
        self.source, self.stream = source, stream
        self._crops: dict[str, np.ndarray] | Path | None = None  # in memory, or spilled
        self._qc: dict[str, Any] | None = None
        self._handed_over = False

    def _run(self) -> None:
        if self._qc is None:
            self.stream.advance_to(self)

    def crops(self) -> dict[str, np.ndarray] | None:
        """The patient's crops, handed over once; ``None`` for a patient excluded while its
        crops were made (no partition is written, its QC record says why)."""
        with self.stream.lock:
            if self._handed_over:
                raise RuntimeError(f"crops of patient {self.source.patient_id} requested twice.")
            self._run()
            self._handed_over = True
            return self.stream.take_crops(self)

    def qc(self) -> dict[str, Any]:
        with self.stream.lock:
            self._run()
            return self._qc


class _Stream:
    """The engine's results for every job, in job order; started on the first request.

    Whichever output is saved first drives the stream: crops not yet handed over are kept in
    memory for at most ``MAX_HELD`` patients, older ones wait in a temporary folder (written
    only when the QC records are saved before the crops), so memory stays bounded and every
    patient runs once whatever order Kedro saves the two outputs in."""

    MAX_HELD = 2

    def __init__(self, contract, settings: PreprocessingSettings, compute: ComputeSettings):
        self.contract, self.settings, self.compute = contract, settings, compute
        self.jobs: list[_PatientJob] = []
        self.lock = threading.RLock()
        self.progress: _Progress | None = None
        self._results: Iterator | None = None
        self._next = 0
        self._held: list[_PatientJob] = []
        self._spill: tempfile.TemporaryDirectory | None = None

    def _run_all(self) -> Iterator:
        task = functools.partial(preprocess_task, contract=self.contract, settings=self.settings)
        engine = run_engine(self.compute)
        logger.info("preprocessing: %d patients on %s", len(self.jobs), engine.describe())
        return engine.map_ordered(task, [job.source for job in self.jobs])

    def advance_to(self, job: _PatientJob) -> None:
        if self._results is None:
            self.progress = _Progress(len(self.jobs), self.settings.log_every)
            self._results = self._run_all()
        while job._qc is None:
            current = self.jobs[self._next]
            crops, qc, error, seconds = next(self._results)
            self._next += 1
            if error is not None:
                if self.settings.on_bad_patient == "raise":
                    self._results.close()  # cancels the patients still in flight
                    raise error
                logger.warning(
                    "preprocessing: excluding patient %s: %s", current.source.patient_id, error
                )
                crops, qc = None, excluded_record(current.source.patient_id, error)
            current._crops, current._qc = crops, qc
            if crops is not None and not current._handed_over:
                self._hold(current)
            self.progress.tick(current.source.patient_id, seconds)

    def _hold(self, job: _PatientJob) -> None:
        self._held.append(job)
        if len(self._held) > self.MAX_HELD:
            oldest = self._held.pop(0)
            if self._spill is None:
                self._spill = tempfile.TemporaryDirectory(prefix="hcc-nomogram-crops-")
            path = Path(self._spill.name) / f"{oldest.source.patient_id}.npz"
            np.savez(path, **oldest._crops)
            oldest._crops = path

    def take_crops(self, job: _PatientJob) -> dict[str, np.ndarray] | None:
        """Hand ``job``'s crops over and keep nothing of them."""
        crops, job._crops = job._crops, None
        if job in self._held:
            self._held.remove(job)
        if isinstance(crops, Path):
            path = crops
            with np.load(path) as archive:
                crops = {key: archive[key] for key in archive.files}
            path.unlink()
        return crops


def lazy_preprocessing(
    sources: list[PatientSource],
    excluded: dict[str, dict[str, Any]],
    contract: DataContract,
    settings: PreprocessingSettings,
    compute: ComputeSettings | None = None,
) -> tuple[dict[str, Callable[[], dict]], dict[str, Callable[[], dict]]]:
    """``(crops, qc_records)``: lazy callables for ``sources``; ``excluded`` patients get only
    their (given) QC record, never a crop file. With ``on_bad_patient: exclude`` a patient whose
    error appears only while its crops are made (e.g. a registration ITK refuses) is excluded
    the same way: its crop callable gives ``None`` (no partition written, see
    :class:`~hcc_nomogram.datasets.AtomicPartitionedDataset`). ``compute`` selects the engine
    (default: synchronous, in this process)."""
    stream = _Stream(contract, settings, compute or ComputeSettings(mode="synchronous"))
    crops: dict[str, Callable[[], dict]] = {}
    records: dict[str, Callable[[], dict]] = {}
    for source in sorted(sources, key=lambda s: s.patient_id):  # the writer's order
        job = _PatientJob(source, stream)
        stream.jobs.append(job)
        crops[source.patient_id] = job.crops
        records[source.patient_id] = job.qc
    for patient_id, record in excluded.items():
        records[patient_id] = lambda record=record: record
    return crops, records
