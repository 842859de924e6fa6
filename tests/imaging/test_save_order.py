"""`preprocess_patients` returns two lazy outputs (crops, QC records): what Kedro writes, and
how much memory it takes, must not depend on the order it saves them in."""

from __future__ import annotations

import tracemalloc

import pandas as pd
from kedro.pipeline import Pipeline, node
from kedro.runner import SequentialRunner
from pipelines.test_preprocessing_pipeline import _catalog, _params, _write_cohort

from hcc_nomogram.datasets import NpzDataset
from hcc_nomogram.pipelines.preprocessing import create_pipeline
from hcc_nomogram.pipelines.preprocessing.nodes import preprocess_patients


def _qc_records_first(*args):
    crops, records = preprocess_patients(*args)
    return records, crops


def _saving_qc_records_first(pipeline: Pipeline) -> Pipeline:
    """The same pipeline, with `preprocess_patients`'s outputs declared (so saved) QC first."""
    (old,) = [n for n in pipeline.nodes if n.name == "preprocess_patients"]
    assert old.outputs == ["preprocessed_crops", "preprocessing_qc_records"]
    new = node(_qc_records_first, old.inputs, old.outputs[::-1], name=old.name)
    return Pipeline([new if n is old else n for n in pipeline.nodes])


def _run(pipeline: Pipeline, manifest, out):
    _, pre = _params()
    catalog = _catalog(manifest, out, pre)
    tracemalloc.start()
    try:
        SequentialRunner().run(pipeline, catalog)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    crops = {p.stem: NpzDataset(str(p)).load() for p in sorted((out / "crops").glob("*.npz"))}
    qc = catalog.load("preprocessing_qc")
    return crops, qc.drop(columns=[c for c in qc if c.endswith("seconds")]), peak


def test_outputs_and_memory_do_not_depend_on_the_save_order(tmp_path):
    manifest = _write_cohort(tmp_path / "cohort", n=12)
    crops, qc, peak = _run(create_pipeline(), manifest, tmp_path / "crops_first")
    other_crops, other_qc, other_peak = _run(
        _saving_qc_records_first(create_pipeline()), manifest, tmp_path / "qc_first"
    )
    assert sorted(other_crops) == sorted(crops) == [f"P{i:03d}" for i in range(12)]
    for pid, arrays in crops.items():
        assert list(other_crops[pid]) == list(arrays)
        for key, array in arrays.items():
            assert other_crops[pid][key].tobytes() == array.tobytes(), (pid, key)
    pd.testing.assert_frame_equal(other_qc, qc, check_exact=True)
    # crops not yet written are not all kept in memory while the QC records are saved
    # (12 patients' crops would be 11 x 1.5 MB more)
    one_patient = sum(array.nbytes for array in crops["P000"].values())
    assert other_peak < peak + 3 * one_patient, (other_peak, peak, one_patient)
