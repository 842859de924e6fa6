"""Defect 1: a failed or killed preprocessing run must keep the previous complete crops.

``preprocessed_crops`` used to be a ``PartitionedDataset(overwrite=True)``: its folder was emptied
before the first patient was processed, so a run failing at patient k left k-1 crops and lost
the previous result. Now :class:`~hcc_nomogram.datasets.AtomicPartitionedDataset` stages a run's
partitions and swaps them in only when all succeeded.
"""

from __future__ import annotations

import json
import os
import signal
import time

import numpy as np
import pandas as pd
import pytest
from kedro.io import DatasetError
from project_helpers import run_project

from hcc_nomogram.datasets import AtomicPartitionedDataset
from hcc_nomogram.errors import InputDataError
from hcc_nomogram.failure import project_error
from reliability.cohorts import digest, image_path, kedro_cli, truncate


def _dataset(folder):
    return AtomicPartitionedDataset(
        path=str(folder), dataset="hcc_nomogram.datasets.NpzDataset", filename_suffix=".npz"
    )


def _arrays(value: float) -> dict:
    return {"image": np.full((4, 4), value, dtype=np.float32)}


class Boom(RuntimeError):
    pass


def test_exception_at_patient_k_keeps_the_previous_partitions(tmp_path):
    folder = tmp_path / "crops"
    _dataset(folder).save({f"P{i}": _arrays(i) for i in range(5)})
    before = digest(folder)
    computed = []

    def patient(i):
        def make():
            if i == 2:  # patient k = 3 of n = 5
                raise Boom("patient 3 failed")
            computed.append(i)
            return _arrays(10 + i)

        return make

    with pytest.raises(DatasetError) as info:  # Kedro wraps every save error
        _dataset(folder).save({f"P{i}": patient(i) for i in range(5)})
    assert isinstance(info.value.__cause__, Boom)
    assert computed == [0, 1]  # lazily, in order, up to the failure
    assert digest(folder) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["crops"]  # staging removed

    # the next run completes and replaces everything (a patient now excluded -> no file)
    _dataset(folder).save({"P0": _arrays(20), "P1": lambda: None, "P9": lambda: _arrays(29)})
    loaded = _dataset(folder).load()
    assert sorted(loaded) == ["P0", "P9"]
    assert loaded["P9"]()["image"][0, 0] == 29
    assert sorted(p.name for p in tmp_path.iterdir()) == ["crops"]


def test_a_save_killed_between_the_two_renames_is_recovered(tmp_path):
    folder = tmp_path / "crops"
    _dataset(folder).save({"P0": _arrays(1), "P1": _arrays(2)})
    before = digest(folder)
    # state left by a kill after "rename target -> previous", before "rename staging -> target"
    os.rename(folder, tmp_path / "crops.previous-0123456789ab")
    (tmp_path / "crops.staging-0123456789ab").mkdir()
    assert _dataset(folder).exists()
    assert digest(folder) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["crops"]


def test_overwrite_false_is_refused(tmp_path):
    with pytest.raises(DatasetError, match="always replaces"):
        AtomicPartitionedDataset(
            path=str(tmp_path), dataset="pickle.PickleDataset", overwrite=False
        )


# ----- real Kedro sessions ---------------------------------------------------------------------
@pytest.mark.slow
def test_failed_preprocessing_run_keeps_crops_and_next_run_completes(project, cohort):
    run_project(project, ["preprocessing"])
    crops = project / "data" / "03_primary" / "crops"
    before = digest(crops)
    assert len(before) == 5

    ct = image_path(cohort, "HCC0003", "arterial_ct")
    good = ct.read_bytes()
    truncate(ct)  # header intact: passes the header-only input checks, fails at patient 3
    with pytest.raises(DatasetError) as info:
        run_project(project, ["preprocessing"])
    error = project_error(info.value)
    assert isinstance(error, InputDataError) and error.patient == "HCC0003"
    assert "truncated" in str(error)
    assert digest(crops) == before
    assert sorted(p.name for p in crops.parent.iterdir()) == ["crops"]

    ct.write_bytes(good)
    run_project(project, ["preprocessing"])
    assert digest(crops) == before  # deterministic: the same crops again


@pytest.mark.slow
def test_exclusion_found_while_cropping_excludes_the_patient(project, cohort):
    """``on_bad_patient: exclude`` now also covers errors raised while the crops are made."""
    (project / "conf" / "local" / "parameters.yml").write_text(
        (project / "conf" / "local" / "parameters.yml").read_text()
        + "preprocessing:\n  on_bad_patient: exclude\n"
    )
    truncate(image_path(cohort, "HCC0002", "portal_ct"))
    run_project(project, ["preprocessing"])
    crops = project / "data" / "03_primary" / "crops"
    assert sorted(p.stem for p in crops.iterdir()) == ["HCC0001", "HCC0003", "HCC0004", "HCC0005"]
    record = json.loads(
        (project / "data" / "02_intermediate" / "preprocessing_qc" / "HCC0002.json").read_text()
    )
    assert record["excluded"] is True and "truncated" in record["exclusion_reason"]


@pytest.mark.slow
def test_sigkill_mid_cohort_keeps_crops_and_next_run_completes(project, cohort):
    """SIGKILL of a `kedro run` while it writes crops: the previous crops survive untouched."""
    manifest = pd.read_csv(cohort / "manifest.csv", dtype={"patient_id": str})
    run_project(project, ["preprocessing"])
    crops = project / "data" / "03_primary" / "crops"
    before = digest(crops)
    # slow the run down enough to be caught mid-cohort: registration on at full resolution
    (project / "conf" / "local" / "parameters.yml").write_text(
        (project / "conf" / "local" / "parameters.yml").read_text()
        + "preprocessing:\n  registration:\n    working_spacing_mm: null\n"
        "    sampling_percentage: 1.0\n"
    )
    proc = kedro_cli(project, "run", "--pipelines=preprocessing", start_new_session=True)
    deadline = time.monotonic() + 120
    staged = []
    while time.monotonic() < deadline and proc.poll() is None:
        staged = [p for p in crops.parent.glob("crops.staging-*/*.npz")]
        if staged:
            break
        time.sleep(0.02)
    assert staged and proc.poll() is None, "the run was not caught while writing its crops"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=30)
    assert digest(crops) == before
    assert len(before) == len(manifest)

    run_project(project, ["preprocessing"])  # the next run completes, leftovers cleared
    assert sorted(p.stem for p in crops.iterdir()) == sorted(manifest["patient_id"])
    assert sorted(p.name for p in crops.parent.iterdir()) == ["crops"]
