"""Where per-patient work runs: in-process, on local cores, or on an existing Dask cluster.

The ``compute`` parameter block (``conf/base/parameters.yml``, docs/scaling.md) selects the
engine behind the per-patient nodes (image validation, registration and crops) and the
DenseNet extraction (:mod:`hcc_nomogram.features.extraction`):

- ``mode: local`` (default): a ``dask.distributed.LocalCluster`` of ``n_workers`` processes
  (default: the cores this process may use) with ``threads_per_worker`` threads each, started
  by the first node that needs it and closed when the run ends (:func:`run_engine`);
- ``mode: address``: an existing cluster at ``scheduler_address`` (``dask scheduler`` +
  ``dask worker``, or dask-jobqueue on SLURM); the workers need this package installed and
  the images readable at the manifest's paths;
- ``mode: synchronous``: a plain loop in this process (debugging; no Dask).

:meth:`Engine.map_ordered` submits a pure function once per item (small arguments: a patient's
one-row manifest and the settings), keeps at most ``tasks_per_worker`` tasks per worker
submitted but not yet handed back, and yields the results **in the order of the items**,
whatever order the workers finish in; results stay on the workers until their turn comes.
Each task's result depends only on its arguments, and ITK runs with the same fixed thread
counts everywhere, so the results are identical (bitwise) whatever the mode and worker count.
Every worker process sets SimpleITK's global default number of threads to
``threads_per_worker``, so ``n_workers x threads_per_worker`` threads never oversubscribe.
"""

from __future__ import annotations

import atexit
import logging
import multiprocessing.util
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from typing import Any, Literal

from distributed import WorkerPlugin
from pydantic import Field, model_validator

from hcc_nomogram.parameters import StrictModel

logger = logging.getLogger(__name__)


class ComputeSettings(StrictModel):
    """``compute`` (``conf/base/parameters.yml``): the engine of the per-patient work."""

    mode: Literal["local", "synchronous", "address"] = "local"
    n_workers: int | None = Field(None, ge=1)  # local: None = the usable cores
    threads_per_worker: int = Field(1, ge=1)
    scheduler_address: str | None = None  # address: e.g. tcp://10.0.0.5:8786
    tasks_per_worker: int = Field(2, ge=1)  # in flight (submitted, not yet handed back)
    memory_limit: str = "auto"  # local: per worker ("4GiB", "auto" = RAM / n_workers)
    dashboard_address: str | None = None  # local: e.g. ":8787"; None = no dashboard
    # DenseNet extraction: auto = on the workers with mode address (other machines, GPU nodes),
    # in this process otherwise (on one machine TensorFlow already uses every core, and each
    # worker would build its own model); workers / in_process force one or the other.
    extraction: Literal["auto", "workers", "in_process"] = "auto"

    @model_validator(mode="after")
    def _address_given(self) -> ComputeSettings:
        if (self.mode == "address") != (self.scheduler_address is not None):
            raise ValueError(
                "scheduler_address is required with mode: address, and only used there "
                f"(got mode={self.mode!r}, scheduler_address={self.scheduler_address!r})"
            )
        return self

    @property
    def extract_on_workers(self) -> bool:
        """Whether the DenseNet extraction runs on the engine's workers (see ``extraction``)."""
        if self.mode == "synchronous" or self.extraction == "in_process":
            return False
        return self.extraction == "workers" or self.mode == "address"

    @property
    def local_workers(self) -> int:
        if self.n_workers is not None:
            return self.n_workers
        try:
            return max(1, len(os.sched_getaffinity(0)))
        except AttributeError:  # not Linux
            return max(1, os.cpu_count() or 1)


#: Dask's nannies start workers with ``MALLOC_TRIM_THRESHOLD_=65536``, which switches off
#: glibc's dynamic mmap threshold: every large array (a CT volume, an ITK image) is then a
#: fresh ``mmap`` and its pages are faulted in again; a patient's registration + crops ran
#: about 25 % slower on a worker than in one process (docs/scaling.md). Workers started here
#: keep glibc's defaults (``None`` drops the variable; one set in the environment still wins).
WORKER_ENVIRONMENT = {"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}

#: Dask keeps the last ``distributed.admin.low-level-log-length`` (default 1,000) messages of
#: each scheduler -> worker stream, and as many transitions, for debugging. Every
#: 'compute-task' message holds its task's arguments (a patient's one-row manifest and the
#: settings), and a ``LocalCluster``'s scheduler lives in the run's process:
#: the client's memory grew with the cohort until those logs were full (peak RSS +20 % from
#: 50 to 500 patients; ``benchmarks/scaling_benchmark.py``). 100 entries still show a
#: developer the last messages.
SCHEDULER_CONFIG = {"distributed.admin.low-level-log-length": 100}


def set_itk_threads(threads: int) -> None:
    """SimpleITK's global default number of threads (for every filter of this process)."""
    import SimpleITK as sitk

    sitk.ProcessObject.SetGlobalDefaultNumberOfThreads(int(threads))


class ItkThreads(WorkerPlugin):
    """Worker plugin: set SimpleITK's default thread count on every worker that joins."""

    name = "hcc-nomogram-itk-threads"

    def __init__(self, threads: int):
        self.threads = int(threads)

    def setup(self, worker) -> None:
        set_itk_threads(self.threads)


class Engine:
    """Runs ``fn(item)`` for every item, here (``client=None``) or on a Dask client."""

    def __init__(self, settings: ComputeSettings, client=None):
        self.settings, self.client = settings, client

    @property
    def n_workers(self) -> int:
        if self.client is None:
            return 1
        return max(1, len(self.client.scheduler_info(n_workers=-1)["workers"]))

    def describe(self) -> str:
        if self.client is None:
            return "synchronous (in this process)"
        return (
            f"dask {self.settings.mode} cluster at {self.client.scheduler.address}, "
            f"{self.n_workers} worker(s) x {self.settings.threads_per_worker} thread(s)"
        )

    def map_ordered(self, fn: Callable[[Any], Any], items: Sequence[Any]) -> Iterator[Any]:
        """``fn(item)`` for each item, yielded in the order of ``items`` (see module doc).

        ``fn`` must be picklable (a module-level function or a ``functools.partial`` of one).
        Closing the iterator early cancels the tasks still pending."""
        if self.client is None:
            for item in items:
                yield fn(item)
            return
        yield from self._map_distributed(fn, items)

    def _map_distributed(self, fn, items) -> Iterator[Any]:
        from distributed import as_completed

        window = self.settings.tasks_per_worker * self.n_workers
        futures: dict[int, Any] = {}
        finished: set[int] = set()
        index_of: dict[str, int] = {}
        stream = as_completed()
        submitted = 0

        def submit() -> None:
            nonlocal submitted
            future = self.client.submit(fn, items[submitted], pure=False)
            futures[submitted], index_of[future.key] = future, submitted
            stream.add(future)
            submitted += 1

        try:
            while submitted < min(window, len(items)):
                submit()
            handed = 0
            while handed < len(items):
                while handed not in finished:
                    finished.add(index_of.pop(next(stream).key))
                finished.discard(handed)
                future = futures.pop(handed)
                result = future.result()  # re-raises a task's unexpected error here
                del future
                handed += 1
                if submitted < len(items):  # at most `window` tasks not yet handed back
                    submit()
                yield result
        finally:
            pending = list(futures.values())
            if pending:
                self.client.cancel(pending)


@contextmanager
def compute_engine(settings: ComputeSettings) -> Iterator[Engine]:
    """An :class:`Engine` of its own for ``settings``, closed on exit (tests, benchmarks).

    The pipelines' nodes share one engine per run instead: :func:`run_engine`."""
    if settings.mode == "synchronous":
        yield Engine(settings)
        return
    import dask.config
    from distributed import Client, LocalCluster

    if settings.mode == "address":
        with Client(settings.scheduler_address, timeout="30s") as client:
            yield _ready(Engine(settings, client))
        return
    with (
        dask.config.set({**WORKER_ENVIRONMENT, **SCHEDULER_CONFIG}),
        LocalCluster(
            n_workers=settings.local_workers,
            threads_per_worker=settings.threads_per_worker,
            processes=True,
            memory_limit=settings.memory_limit,
            dashboard_address=settings.dashboard_address,
            silence_logs=logging.WARNING,
        ) as cluster,
        Client(cluster) as client,
    ):
        yield _ready(Engine(settings, client))


def _ready(engine: Engine) -> Engine:
    engine.client.register_plugin(ItkThreads(engine.settings.threads_per_worker))
    logger.info("compute: started %s", engine.describe())
    return engine


class _RunEngine:
    """The one engine of a run: started on first use, closed by :func:`close_run_engine`."""

    lock = threading.Lock()
    engine: Engine | None = None
    stack: ExitStack | None = None
    exit_handlers = False


def run_engine(settings: ComputeSettings) -> Engine:
    """The engine shared by every node of this run (one cluster per ``kedro run``).

    Started lazily by the first node that needs it, reused by later nodes with the same
    settings (a node with other settings closes it and starts its own), and closed by
    :class:`~hcc_nomogram.hooks.ComputeHooks` after the run or after a failure, and at the
    exit of this process as a safety net (also in a ``ParallelRunner`` subprocess)."""
    if settings.mode == "synchronous":
        return Engine(settings)
    with _RunEngine.lock:
        if _RunEngine.engine is not None and _RunEngine.engine.settings == settings:
            return _RunEngine.engine
        _close_locked()
        stack = ExitStack()
        _RunEngine.engine = stack.enter_context(compute_engine(settings))
        _RunEngine.stack = stack
        if not _RunEngine.exit_handlers:  # atexit: before Dask's own exit handlers (LIFO);
            atexit.register(close_run_engine)  # Finalize: in multiprocessing children too
            multiprocessing.util.Finalize(None, close_run_engine, exitpriority=100)
            _RunEngine.exit_handlers = True
        return _RunEngine.engine


def close_run_engine() -> bool:
    """Close the run's engine (and the cluster it started); ``True`` if one was open."""
    with _RunEngine.lock:
        return _close_locked()


def _close_locked() -> bool:
    stack, _RunEngine.stack, _RunEngine.engine = _RunEngine.stack, None, None
    if stack is None:
        return False
    try:
        stack.close()
    except Exception as error:  # noqa: BLE001  closing must never hide the run's own outcome
        logger.warning("compute: closing the cluster failed: %s", error)
    logger.info("compute: cluster closed")
    return True
