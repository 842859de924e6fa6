"""The compute engine: identical outputs whatever the engine, order kept, memory bounded.

LocalCluster start-up costs seconds, so the clusters are few: one per engine in the
equivalence test, one for the raise test and one (module-scoped) for the engine itself."""

from __future__ import annotations

import logging
import os
import shutil
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import SimpleITK as sitk
from kedro.runner import SequentialRunner
from pipelines.test_preprocessing_pipeline import _catalog, _empty, _params, _write_cohort
from project_helpers import REPO_ROOT, make_project, run_project

from hcc_nomogram.compute import ComputeSettings, Engine, close_run_engine, compute_engine
from hcc_nomogram.datasets import NpzDataset
from hcc_nomogram.errors import EmptyMaskError, InputDataError, ModelFitError
from hcc_nomogram.features.densenet import make_extractor
from hcc_nomogram.features.extraction import CropRef, ExtractorSpec, task_batches
from hcc_nomogram.parameters import check_parameters
from hcc_nomogram.pipelines.deep_features.nodes import extract_deep_features
from hcc_nomogram.pipelines.preprocessing import create_pipeline
from hcc_nomogram.stats.design import Term
from hcc_nomogram.stats.nomogram import develop_model
from hcc_nomogram.stats.validation import bootstrap_optimism
from tests.stats.synthetic_cohort import make_analysis_table

ENGINES = {
    "synchronous": {"mode": "synchronous"},
    "LocalCluster(1)": {"mode": "local", "n_workers": 1},
    "LocalCluster(2)": {"mode": "local", "n_workers": 2},
}


@pytest.fixture(scope="module")
def cohort_with_bad_patient(tmp_path_factory) -> Path:
    """4 patients; P001's portal r2 mask is empty (excluded by the input checks)."""
    return _write_cohort(
        tmp_path_factory.mktemp("cohort"), n=4, broken={("P001", "portal_mask_r2"): _empty}
    )


def _run(manifest: Path, out: Path, compute: dict) -> tuple[dict, pd.DataFrame, pd.DataFrame]:
    _, pre = _params()
    catalog = _catalog(
        manifest, out, {**pre, "on_bad_patient": "exclude"}, shared=True, compute=compute
    )
    SequentialRunner().run(create_pipeline(), catalog)
    crops = {p.stem: NpzDataset(str(p)).load() for p in sorted((out / "crops").glob("*.npz"))}
    qc = catalog.load("preprocessing_qc")
    qc = qc.drop(columns=[c for c in qc if c.endswith("seconds")])  # wall times differ
    return crops, catalog.load("preprocessing_validation"), qc


@pytest.mark.slow
def test_outputs_are_bitwise_identical_whatever_the_engine(cohort_with_bad_patient, tmp_path):
    runs = {
        name: _run(cohort_with_bad_patient, tmp_path / str(i), compute)
        for i, (name, compute) in enumerate(ENGINES.items())
    }
    crops, validation, qc = runs["synchronous"]
    assert sorted(crops) == ["P000", "P002", "P003"]
    assert list(validation["patient_id"]) == ["P000", "P001", "P002", "P003"]  # manifest order
    assert list(validation["excluded"]) == [False, True, False, False]
    assert "patient P001" in validation.loc[1, "exclusion_reason"]
    for name, (other_crops, other_validation, other_qc) in runs.items():
        assert sorted(other_crops) == sorted(crops), name
        for pid, arrays in crops.items():
            assert sorted(other_crops[pid]) == sorted(arrays), name
            for key, array in arrays.items():
                other = other_crops[pid][key]
                assert other.dtype == array.dtype and other.tobytes() == array.tobytes(), (
                    name,
                    pid,
                    key,
                )
        pd.testing.assert_frame_equal(other_validation, validation, check_exact=True)
        pd.testing.assert_frame_equal(other_qc, qc, check_exact=True)


@pytest.mark.slow
def test_a_bad_patient_on_a_worker_is_reported_with_its_id(cohort_with_bad_patient, tmp_path):
    _, pre = _params()
    catalog = _catalog(cohort_with_bad_patient, tmp_path, pre, compute=ENGINES["LocalCluster(2)"])
    with pytest.raises(EmptyMaskError, match=r"patient P001.*portal_mask_r2"):
        SequentialRunner().run(create_pipeline(), catalog)
    assert not (tmp_path / "crops").exists()


def _slow_square(delays: tuple[float, ...]):
    """``x -> x * x`` after ``delays[x]`` seconds; a closure, so that Dask ships it by value
    (the workers cannot import this test module)."""

    def slow_square(x: int) -> int:
        time.sleep(delays[x])
        return x * x

    return slow_square


@pytest.fixture(scope="module")
def local_engine():
    with compute_engine(ComputeSettings(n_workers=2, tasks_per_worker=2)) as engine:
        yield engine


def test_results_come_back_in_item_order_with_few_tasks_in_flight(local_engine):
    delays = (0.4, 0.0, 0.0, 0.2, 0.0, 0.0, 0.3, 0.0, 0.0, 0.0)  # later items finish first
    fn = _slow_square(delays)
    window = 2 * local_engine.n_workers
    assert local_engine.n_workers == 2
    out = []
    for result in local_engine.map_ordered(fn, list(range(len(delays)))):
        # bounded, never the whole list (+1: the release of the future just handed back
        # reaches the client's bookkeeping asynchronously)
        assert len(local_engine.client.futures) <= window + 1
        out.append(result)
    assert out == [x * x for x in range(len(delays))]
    # the synchronous engine gives the same
    assert list(Engine(ComputeSettings(mode="synchronous")).map_ordered(fn, range(10))) == out


def test_closing_early_cancels_the_pending_tasks(local_engine):
    fn = _slow_square((0.0,) + (0.5,) * 9)
    results = local_engine.map_ordered(fn, list(range(10)))
    assert next(results) == 0
    results.close()
    time.sleep(0.2)
    assert len(local_engine.client.futures) == 0


def test_workers_keep_glibc_malloc_defaults(local_engine):
    # Dask's nanny would start them with MALLOC_TRIM_THRESHOLD_=65536 (about 25 % slower
    # registrations); an existing cluster gets the same setting from conf/dask (docs/scaling.md)
    import dask.config

    from hcc_nomogram.compute import WORKER_ENVIRONMENT

    def malloc_trim_threshold() -> str | None:  # nested: shipped by value to the workers
        return os.environ.get("MALLOC_TRIM_THRESHOLD_")

    on_workers = local_engine.client.run(malloc_trim_threshold)
    assert len(on_workers) == 2 and set(on_workers.values()) == {None}
    shipped = dask.config.collect([str(REPO_ROOT / "conf/dask")], env={})
    for key, value in WORKER_ENVIRONMENT.items():
        assert dask.config.get(key, config=shipped, default="missing") == value


def test_the_run_scheduler_keeps_short_debug_logs(local_engine):
    # Dask's 1,000-entry message logs hold every task's arguments: the client (home of a
    # LocalCluster's scheduler) grew with the cohort until they were full (docs/scaling.md)
    from hcc_nomogram.compute import SCHEDULER_CONFIG

    assert SCHEDULER_CONFIG == {"distributed.admin.low-level-log-length": 100}
    scheduler = local_engine.client.cluster.scheduler
    assert scheduler.transition_log.maxlen == 100
    streams = scheduler.stream_comms.values()
    assert len(streams) == 2 and {s.recent_message_log.maxlen for s in streams} == {100}


def _develop_or_fail(terms, cutoff: float):
    """The whole Cox development on a resample; a resample whose first patient lived less
    than ``cutoff`` months fails (``ModelFitError``), so that some resamples are skipped. A
    closure, shipped by value to the workers."""

    def develop(df: pd.DataFrame):
        if df["os_months"].iloc[0] < cutoff:
            raise ModelFitError("planted failure")
        fit = develop_model(
            df, terms, name="m", time_col="os_months", event_col="os_event", engine="numpy"
        )
        return fit.model.predict_lp

    return develop


def test_bootstrap_resamples_give_the_same_result_on_the_engine(local_engine):
    df = make_analysis_table(n_train=120, n_valid=10, seed=5)
    train = df[df.cohort == "training"].reset_index(drop=True)
    terms = [
        Term("bclc", "bclc", reference="B"),
        Term("afp", "afp_ng_ml", kind="continuous", cutoff=400),
        Term("signature", "signature_score", kind="continuous", step=0.2),
    ]
    develop = _develop_or_fail(terms, cutoff=float(train["os_months"].quantile(0.3)))
    kwargs = dict(time_col="os_months", event_col="os_event", n_bootstrap=23, seed=4)
    here = bootstrap_optimism(train, develop, **kwargs)
    there = bootstrap_optimism(train, develop, map_ordered=local_engine.map_ordered, **kwargs)
    assert 0 < here.n_failed < 23  # skipped resamples are counted the same way on workers
    assert there == here  # every float bitwise: the mean is taken in resample order
    deadline = time.monotonic() + 5  # the last release reaches the client asynchronously
    while local_engine.client.futures and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(local_engine.client.futures) == 0  # nothing left on the workers


@pytest.mark.parametrize(
    ("block", "message"),
    [
        ({"mode": "address"}, "scheduler_address is required"),
        ({"mode": "local", "scheduler_address": "tcp://x:8786"}, "only used there"),
        ({"mode": "local", "n_workers": 0}, "compute.n_workers"),
        ({"mode": "local", "n_worker": 2}, "compute.n_worker: unknown key"),
    ],
)
def test_a_bad_compute_block_is_refused_before_the_run(block, message):
    with pytest.raises(InputDataError, match=message):
        check_parameters({"compute": block})


# --------------------------------------------------------------------------------------
# DenseNet extraction on the engine (hcc_nomogram.features.extraction)
# --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def crop_partitions(tmp_path_factory):
    """5 patients x 2 delineations of seeded noise crops, written as the partitioned
    ``preprocessed_crops`` dataset writes them; loaded back as its lazy loaders."""
    from kedro_datasets.partitions import PartitionedDataset

    folder = tmp_path_factory.mktemp("crops")
    rng = np.random.default_rng(3)
    dataset = PartitionedDataset(
        path=str(folder), dataset="hcc_nomogram.datasets.NpzDataset", filename_suffix=".npz"
    )
    dataset.save(
        {
            f"P{i:03d}": {
                f"arterial__{d}__image": rng.standard_normal((224, 224)).astype(np.float32)
                for d in ("r1a", "r1b")
            }
            for i in range(5)
        }
    )
    return dataset.load()


def _features(partitions, extractor, compute: dict) -> np.ndarray:
    inventory = pd.DataFrame(
        [(p, d, "arterial") for p in sorted(partitions) for d in ("r1a", "r1b")],
        columns=["patient_id", "delineation", "phase"],
    )
    contract = _params()[0]
    table = extract_deep_features(partitions, inventory, extractor, "arterial", contract, compute)
    return table.filter(like="arterial_f").to_numpy()


def _in_process_tf_threads() -> int:
    import tensorflow as tf

    return tf.config.threading.get_intra_op_parallelism_threads() or len(os.sched_getaffinity(0))


@pytest.mark.slow
def test_deep_features_are_identical_on_workers_with_the_same_tf_threads(crop_partitions):
    """10 crops, batch size 1: 5 tasks of 2 crops. Random seeded weights, rebuilt on each
    worker from the client's provenance. TF's CPU sums depend on its intra-op thread count
    (1 vs 2 threads: up to 9e-8 apart, docs/scaling.md), so the workers run with this
    process's count here, and the features are then bitwise identical."""
    extractor = make_extractor({"weights": "random", "seed": 7, "batch_size": 1})
    here = _features(crop_partitions, extractor, {"mode": "synchronous"})
    assert here.shape == (10, 1024) and here.dtype == np.float32
    threads = _in_process_tf_threads()
    for n_workers in (1, 2):
        compute = {"mode": "local", "n_workers": n_workers, "threads_per_worker": threads}
        compute["extraction"] = "workers"  # auto keeps it in this process on one machine
        try:
            there = _features(crop_partitions, extractor, compute)
        finally:
            close_run_engine()
        assert there.tobytes() == here.tobytes(), f"LocalCluster({n_workers}) x {threads}"


def test_a_worker_refuses_a_weights_file_that_is_not_the_recorded_one(tmp_path):
    from hcc_nomogram.features.densenet import WeightsProvenance

    weights = tmp_path / "w.weights.h5"
    weights.write_bytes(b"not the recorded file")
    provenance = WeightsProvenance(
        "local_file", str(weights), False, False, file=str(weights), file_md5="0" * 32
    )
    with pytest.raises(InputDataError, match=r"w\.weights\.h5.*not the one the run recorded"):
        ExtractorSpec(provenance, batch_size=4, clip=3.0).resolved()


def test_crops_are_cut_into_the_same_tasks_whatever_the_engine():
    refs = [CropRef(f"P{i}", {}, "k") for i in range(37)]
    tasks = task_batches(refs, batch_size=2)  # 2 model batches of 2 per task
    assert [len(t) for t in tasks] == [4] * 9 + [1]
    assert [r for t in tasks for r in t] == refs


# --------------------------------------------------------------------------------------
# One cluster per `kedro run` (hcc_nomogram.compute.run_engine + hooks.ComputeHooks)
# --------------------------------------------------------------------------------------


class _Lines(logging.Handler):
    def __init__(self):
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record):
        self.lines.append(record.getMessage())


@pytest.fixture
def compute_log():
    handler, log = _Lines(), logging.getLogger("hcc_nomogram.compute")
    log.addHandler(handler)
    yield handler.lines
    log.removeHandler(handler)


def _local_project(root: Path, cohort: Path, on_bad_patient: str = "exclude") -> Path:
    make_project(root, cohort)
    parameters = root / "conf/local/parameters.yml"
    text = parameters.read_text().replace("mode: synchronous", "mode: local\n  n_workers: 1")
    parameters.write_text(text + f"preprocessing:\n  on_bad_patient: {on_bad_patient}\n")
    return root


@pytest.mark.slow
def test_one_cluster_per_run_closed_after_the_run_and_after_a_failure(
    tiny_demo_cohort, tmp_path, compute_log
):
    # both preprocessing nodes (image checks, then crops) use the engine: one cluster
    run_project(_local_project(tmp_path / "ok", tiny_demo_cohort), ["preprocessing"])
    starts = [line for line in compute_log if line.startswith("compute: started")]
    assert len(starts) == 1, compute_log
    assert compute_log[-1] == "compute: cluster closed"  # by the hook, after the run
    assert not close_run_engine()  # nothing left open

    # a failing run (a patient with an empty mask, on_bad_patient: raise) closes it too
    compute_log.clear()
    broken = tmp_path / "broken_cohort"
    shutil.copytree(tiny_demo_cohort, broken)
    mask = broken / "images/HCC0001/portal_mask_r2.nii.gz"
    sitk.WriteImage(sitk.ReadImage(str(mask)) * 0, str(mask))
    with pytest.raises(EmptyMaskError, match="HCC0001"):
        run_project(_local_project(tmp_path / "fails", broken, "raise"), ["preprocessing"])
    assert [line for line in compute_log if line.startswith("compute: started")]
    assert compute_log[-1] == "compute: cluster closed"
    assert not close_run_engine()


@pytest.mark.parametrize(
    ("settings", "on_workers"),
    [
        ({"mode": "local"}, False),  # one machine: TensorFlow already uses every core here
        ({"mode": "address", "scheduler_address": "tcp://h:8786"}, True),
        ({"mode": "local", "extraction": "workers"}, True),
        (
            {"mode": "address", "scheduler_address": "tcp://h:8786", "extraction": "in_process"},
            False,
        ),
        ({"mode": "synchronous", "extraction": "workers"}, False),  # no workers to run on
    ],
)
def test_where_the_densenet_extraction_runs(settings, on_workers):
    assert ComputeSettings(**settings).extract_on_workers is on_workers
