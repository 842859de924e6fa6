"""DenseNet extraction on the compute engine: fixed crop batches, one model per worker.

The crops of a phase, in the order of the crop inventory, are cut into batches of
``TASK_BATCHES x batch_size`` crops; the boundaries depend on that order alone, never on the
number of workers. Each batch is one task (:func:`extract_task`), run on a worker of the
run's engine (:func:`hcc_nomogram.compute.run_engine`):

- the task carries :class:`CropRef` s -- a patient, the crop's key in its archive and the
  partition's loader (for the catalog's ``preprocessed_crops``, a dataset holding a file path)
  -- and the worker reads the crops itself: no crop travels from the client;
- the worker takes the model from a cache of its own process (:func:`worker_extractor`),
  built once per weights (file path + MD5, or seed) and settings, never per batch. It is
  built from the provenance of the client's extractor (``densenet_weights_provenance``), so a
  weights file is checked against the MD5 the run recorded, and random weights use its seed;
- TensorFlow's intra- and inter-op thread pools are set to the worker's thread count
  (``compute.threads_per_worker``) before TensorFlow starts in that worker, so
  ``n_workers x threads_per_worker`` threads never oversubscribe; a worker that sees a GPU
  uses it (TensorFlow's default placement);
- the features (``len(batch) x 1024`` float32) come back in crop order.

Identity: a crop's features depend on the weights, the crop, and TensorFlow's intra-op thread
count (TF's CPU kernels split their sums by thread; 1 vs 2 threads differ by up to ~1e-7).
With the same thread count the features are bitwise identical whatever the number of workers
and whether they run in-process or on a worker (``tests/test_compute.py``); ``synchronous``
mode runs in-process with TensorFlow's default thread count (all cores), as before.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from hcc_nomogram.errors import InputDataError
from hcc_nomogram.features.densenet import (
    INPUT_SIZE,
    N_FEATURES,
    DenseNetExtractor,
    ResolvedWeights,
    WeightsProvenance,
    build_extractor,
    file_md5,
)

logger = logging.getLogger(__name__)

TASK_BATCHES = 2  # model batches per task: 32 crops at the default batch_size 16


def load_partition(partition: Callable[[], Mapping[str, np.ndarray]] | Mapping[str, np.ndarray]):
    """A partition of ``preprocessed_crops``: its loader's result, or the mapping itself."""
    return partition() if callable(partition) else partition


def checked_crop(archive: Mapping[str, np.ndarray], key: str, patient: str) -> np.ndarray:
    """``archive[key]`` as float32 224x224, or an error naming the patient and the crop."""
    crop = np.asarray(archive[key])
    if crop.shape != (INPUT_SIZE, INPUT_SIZE):
        raise InputDataError(
            f"crop {key!r} has shape {crop.shape}, expected ({INPUT_SIZE}, {INPUT_SIZE}).",
            patient=patient,
            file=f"preprocessed_crops/{patient}.npz",
            fix="re-run the preprocessing pipeline (crops are resampled to 224x224).",
        )
    if not np.issubdtype(crop.dtype, np.number) or not np.isfinite(crop).all():
        raise InputDataError(
            f"crop {key!r} contains NaN/infinite or non-numeric values.",
            patient=patient,
            file=f"preprocessed_crops/{patient}.npz",
            fix="check the image and its z-scoring in the preprocessing pipeline.",
        )
    return crop.astype(np.float32, copy=False)


@dataclass(frozen=True)
class CropRef:
    """One crop for a worker to read: ``load_partition(partition)[key]`` of ``patient``."""

    patient: str
    partition: Any  # the partition's loader (a dataset's bound ``load``) or its mapping
    key: str


def read_crops(refs: Sequence[CropRef]) -> np.ndarray:
    """The crops of ``refs`` (N, 224, 224), each patient's archive read once per run of refs."""
    crops, patient, archive = [], None, None
    for ref in refs:
        if ref.patient != patient:
            patient, archive = ref.patient, load_partition(ref.partition)
        crops.append(checked_crop(archive, ref.key, ref.patient))
    return np.stack(crops)


@dataclass(frozen=True)
class ExtractorSpec:
    """What a worker needs to build the client's extractor again: its weights' provenance
    (file + MD5, or seed) and its settings. Small, so it travels with every task."""

    provenance: WeightsProvenance
    batch_size: int
    clip: float

    @classmethod
    def of(cls, extractor: DenseNetExtractor) -> ExtractorSpec:
        return cls(extractor.provenance, extractor.batch_size, extractor.clip)

    @property
    def key(self) -> tuple:
        p = self.provenance
        return (p.weights_source, p.file, p.file_md5, p.seed, p.input_mode, self.clip,
                self.batch_size)  # fmt: skip

    def resolved(self) -> ResolvedWeights:
        """The weights to load, the file checked against the MD5 the run recorded."""
        p = self.provenance
        if p.weights_source == "random":
            return ResolvedWeights(None, p)
        path = Path(p.file)
        found = file_md5(path) if path.is_file() else "no such file"
        if found != p.file_md5:
            raise InputDataError(
                f"the DenseNet-121 weights file on this worker is not the one the run "
                f"recorded (MD5 {found}, recorded {p.file_md5}).",
                file=path,
                fix="give every Dask worker the same weights file at the same path "
                "(a shared file system), or set deep_features.weights to a path they share.",
            )
        return ResolvedWeights(path, p)


_MODELS: dict[tuple, DenseNetExtractor] = {}
_MODELS_LOCK = threading.Lock()  # one build per process
_PREDICT_LOCK = threading.Lock()  # one predict at a time: TF already uses the worker's threads


def set_tf_threads(threads: int) -> None:
    """TensorFlow's intra- and inter-op thread counts; must run before TF starts its runtime."""
    import tensorflow as tf

    try:
        tf.config.threading.set_intra_op_parallelism_threads(int(threads))
        tf.config.threading.set_inter_op_parallelism_threads(int(threads))
    except RuntimeError:  # TensorFlow already initialised in this process
        current = tf.config.threading.get_intra_op_parallelism_threads()
        if current != threads:
            logger.warning(
                "TensorFlow was started in this worker before the extraction: it keeps %s "
                "intra-op threads instead of %d.",
                current or "its default",
                threads,
            )


def _worker_threads() -> int | None:
    """The thread count of the Dask worker running this code; ``None`` outside a worker."""
    from distributed import get_worker

    try:
        return int(get_worker().state.nthreads)
    except ValueError:
        return None


def worker_extractor(spec: ExtractorSpec) -> DenseNetExtractor:
    """This process's extractor for ``spec``: built on first use, then reused by every task."""
    with _MODELS_LOCK:
        if spec.key not in _MODELS:
            threads = _worker_threads()
            if threads is not None:
                set_tf_threads(threads)
            _MODELS[spec.key] = build_extractor(
                spec.resolved(), batch_size=spec.batch_size, clip=spec.clip
            )
            logger.info("deep features: DenseNet-121 built in this worker (%s)", spec.key[:4])
        return _MODELS[spec.key]


def extract_task(refs: Sequence[CropRef], spec: ExtractorSpec) -> np.ndarray:
    """Features (len(refs), 1024) float32 of one batch: the pure function run on a worker."""
    extractor = worker_extractor(spec)
    crops = read_crops(refs)
    with _PREDICT_LOCK:
        return extractor.extract(crops)


def task_batches(refs: Sequence[CropRef], batch_size: int) -> list[tuple[CropRef, ...]]:
    """``refs`` cut into tasks of ``TASK_BATCHES x batch_size`` crops (fixed boundaries)."""
    size = TASK_BATCHES * int(batch_size)
    return [tuple(refs[start : start + size]) for start in range(0, len(refs), size)]


def extract_on_engine(engine, extractor: DenseNetExtractor, refs: Sequence[CropRef]) -> np.ndarray:
    """Features (N, 1024) float32 of ``refs`` in their order, computed on ``engine``'s workers
    with ``extractor``'s weights and settings."""
    task = functools.partial(extract_task, spec=ExtractorSpec.of(extractor))
    parts = list(engine.map_ordered(task, task_batches(refs, extractor.batch_size)))
    if not parts:
        return np.zeros((0, N_FEATURES), dtype=np.float32)
    return np.concatenate(parts)


def device_names() -> list[str]:
    """The devices TensorFlow sees in this process (e.g. ``["CPU:0", "GPU:0"]``)."""
    import tensorflow as tf

    return [
        f"{d.device_type}:{d.name.rsplit(':', 1)[-1]}" for d in tf.config.list_physical_devices()
    ]
