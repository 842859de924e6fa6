"""The compute engine: identical outputs whatever the engine, order kept, memory bounded.

LocalCluster start-up costs seconds, so the clusters are few: one per engine in the
equivalence test, one for the raise test and one (module-scoped) for the engine itself."""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd
import pytest
from kedro.runner import SequentialRunner
from pipelines.test_preprocessing_pipeline import _catalog, _empty, _params, _write_cohort

from hcc_nomogram.compute import ComputeSettings, Engine, compute_engine
from hcc_nomogram.datasets import NpzDataset
from hcc_nomogram.errors import EmptyMaskError, InputDataError
from hcc_nomogram.parameters import check_parameters
from hcc_nomogram.pipelines.preprocessing import create_pipeline

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
