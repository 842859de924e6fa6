"""The `preprocessing` pipeline on a tiny hand-made cohort, Sequential and Parallel runners."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import SimpleITK as sitk
import yaml
from kedro.io import DataCatalog, MemoryDataset, SharedMemoryDataCatalog
from kedro.runner import ParallelRunner, SequentialRunner

from hcc_nomogram.datasets import CohortManifestDataset, NpzDataset
from hcc_nomogram.errors import EmptyMaskError, ImageGeometryError
from hcc_nomogram.imaging.registration import (
    euler_from_parameters,
    mask_points,
    target_registration_error,
)
from hcc_nomogram.imaging.testing import euler, misaligned_pair
from hcc_nomogram.pipelines.preprocessing import create_pipeline

ROOT = Path(__file__).resolve().parents[2]
PHASES = ("arterial", "portal")
DELINEATIONS = ("r1a", "r1b", "r2")
SIZE, SPACING = (72, 72, 28), (1.5, 1.5, 2.5)


def _truth(i: int):
    return euler(angles_deg=(2.0, -1.0, 3.0 - i), translation_mm=(3.0 + i, -2.0, 1.5))


def _params():
    base = yaml.safe_load((ROOT / "conf/base/parameters.yml").read_text(encoding="utf-8"))[
        "data_contract"
    ]
    pre = yaml.safe_load(
        (ROOT / "conf/base/parameters_preprocessing.yml").read_text(encoding="utf-8")
    )
    return base, pre["preprocessing"]


def _write_cohort(folder: Path, n: int = 3, broken: dict | None = None) -> Path:
    rows = []
    for i in range(n):
        pid = f"P{i:03d}"
        (a_ct, a_mask), (p_ct, p_mask) = misaligned_pair(_truth(i), size=SIZE, spacing=SPACING)
        images = {"arterial_ct": a_ct, "portal_ct": p_ct}
        for d in DELINEATIONS:
            images[f"arterial_mask_{d}"] = a_mask
            images[f"portal_mask_{d}"] = p_mask
        row = {"patient_id": pid, "center": "A", "cohort": "training"}
        for column, original in images.items():
            image = (broken or {}).get((pid, column), lambda im: im)(original)
            path = Path("images") / pid / f"{column}.nii.gz"
            (folder / path).parent.mkdir(parents=True, exist_ok=True)
            sitk.WriteImage(image, str(folder / path))
            row[column] = path.as_posix()
        rows.append(row)
    pd.DataFrame(rows).to_csv(folder / "manifest.csv", index=False)
    return folder / "manifest.csv"


def _catalog(
    manifest: Path,
    out: Path,
    preprocessing: dict,
    shared: bool = False,
    compute: dict | None = None,
):
    contract, _ = _params()
    datasets = {
        "cohort_manifest": CohortManifestDataset(str(manifest)),
        "params:data_contract": MemoryDataset(contract),
        "params:preprocessing": MemoryDataset(preprocessing),
        "params:compute": MemoryDataset(compute or {"mode": "synchronous"}),
        "preprocessing_validation": MemoryDataset(),
        "preprocessed_crops": _partitioned(
            out / "crops", "hcc_nomogram.datasets.NpzDataset", ".npz"
        ),
        "preprocessing_qc_records": _partitioned(out / "qc", "json.JSONDataset", ".json"),
        "preprocessing_qc": MemoryDataset(),
    }
    if shared:
        from kedro_datasets.pandas import CSVDataset

        datasets["preprocessing_validation"] = CSVDataset(filepath=str(out / "validation.csv"))
        datasets["preprocessing_qc"] = CSVDataset(filepath=str(out / "qc.csv"))
        return SharedMemoryDataCatalog(datasets)
    return DataCatalog(datasets)


def _partitioned(path: Path, dataset: str, suffix: str):
    from kedro_datasets.partitions import PartitionedDataset

    return PartitionedDataset(
        path=str(path), dataset=dataset, filename_suffix=suffix, overwrite=True
    )


@pytest.fixture(scope="module")
def cohort(tmp_path_factory) -> Path:
    return _write_cohort(tmp_path_factory.mktemp("cohort"))


def _check_crops(folder: Path, patients):
    files = sorted(p.stem for p in folder.glob("*.npz"))
    assert files == sorted(patients)
    crops = NpzDataset(str(folder / f"{patients[0]}.npz")).load()
    assert set(crops) == {
        f"{p}__{d}__{k}" for p in PHASES for d in DELINEATIONS for k in ("image", "mask")
    }
    for key, array in crops.items():
        assert array.shape == (224, 224)
        assert array.dtype == (np.float32 if key.endswith("image") else np.uint8)
    image = crops["portal__r1a__image"]
    assert abs(image.mean()) < 1e-4 and abs(image.std() - 1) < 1e-3
    assert crops["portal__r1a__mask"][112, 112] == 1  # centred on the tumour
    return crops


def test_sequential_run_writes_crops_and_qc(cohort, tmp_path):
    _, pre = _params()
    catalog = _catalog(cohort, tmp_path, pre)
    SequentialRunner().run(create_pipeline(), catalog)
    crops = _check_crops(tmp_path / "crops", ["P000", "P001", "P002"])
    qc = catalog.load("preprocessing_qc")
    assert list(qc["patient_id"]) == ["P000", "P001", "P002"]
    assert not qc["excluded"].any()
    assert (qc["registration_metric_after"] < qc["registration_metric_before"]).all()
    assert (qc["tumor_centroid_distance_after_mm"] < 2.5).all()  # masks are voxelised
    assert (qc["tumor_centroid_distance_before_mm"] > 3.0).all()
    assert (qc["tumor_dice_after"] > 0.8).all()
    assert qc["arterial__r1a__area_mm2"].gt(0).all()
    # the recorded transform recovers the true one: TRE over the tumour
    for i, row in qc.iterrows():
        estimate = euler_from_parameters(row["transform_parameters"])
        (a_ct, a_mask), _ = misaligned_pair(_truth(i), size=SIZE, spacing=SPACING)
        points = mask_points(sitk.GetArrayFromImage(a_mask), a_ct)
        assert np.median(target_registration_error(estimate, _truth(i), points)) < 1.5
    # the arterial (fixed) crop is the native slice itself, z-scored
    assert crops["arterial__r1a__mask"].sum() * 1.5 * 1.5 == pytest.approx(
        qc.loc[0, "arterial__r1a__area_mm2"]
    )


def test_parallel_runner_gives_the_same_crops(cohort, tmp_path, monkeypatch):
    """Kedro's ParallelRunner runs each node in a subprocess, which here starts its own Dask
    LocalCluster for the per-patient work: nothing breaks, the crops are the same.

    Subprocesses are spawned, not forked: a process forked from one that has run Dask
    (here: earlier tests in this pytest process) can hang in Dask's inherited locks;
    ``kedro run --runner=ParallelRunner`` never runs Dask in its parent (docs/scaling.md)."""
    monkeypatch.setenv("KEDRO_MP_CONTEXT", "spawn")
    _, pre = _params()
    SequentialRunner().run(create_pipeline(), _catalog(cohort, tmp_path / "seq", pre))
    catalog = _catalog(
        cohort, tmp_path / "par", pre, shared=True, compute={"mode": "local", "n_workers": 1}
    )
    ParallelRunner(max_workers=2).run(create_pipeline(), catalog)
    for pid in ("P000", "P001", "P002"):
        seq = NpzDataset(str(tmp_path / "seq/crops" / f"{pid}.npz")).load()
        par = NpzDataset(str(tmp_path / "par/crops" / f"{pid}.npz")).load()
        for key in seq:
            np.testing.assert_array_equal(seq[key], par[key])
    assert len(pd.read_csv(tmp_path / "par/qc.csv")) == 3


def _empty(image):
    return image * 0


def _shifted(image):
    out = sitk.Image(image)
    out.SetOrigin(tuple(o + 5.0 for o in image.GetOrigin()))
    return out


@pytest.mark.parametrize(
    ("column", "breaker", "error"),
    [
        ("portal_mask_r2", _empty, EmptyMaskError),
        ("arterial_mask_r1b", _shifted, ImageGeometryError),
    ],
)
def test_bad_patient_raises_or_is_excluded_and_reported(tmp_path, column, breaker, error):
    manifest = _write_cohort(tmp_path / "in", n=2, broken={("P001", column): breaker})
    _, pre = _params()
    with pytest.raises(error, match=r"patient P001.*" + column):
        SequentialRunner().run(create_pipeline(), _catalog(manifest, tmp_path / "a", pre))
    catalog = _catalog(manifest, tmp_path / "b", {**pre, "on_bad_patient": "exclude"})
    SequentialRunner().run(create_pipeline(), catalog)
    assert sorted(p.stem for p in (tmp_path / "b/crops").glob("*.npz")) == ["P000"]
    qc = catalog.load("preprocessing_qc").set_index("patient_id")
    assert not qc.loc["P000", "excluded"] and qc.loc["P001", "excluded"]
    assert error.__name__ in qc.loc["P001", "exclusion_reason"]
    assert column in qc.loc["P001", "exclusion_reason"]


def test_missing_phase_file_is_reported(tmp_path):
    manifest = _write_cohort(tmp_path / "in", n=1)
    (manifest.parent / "images/P000/portal_ct.nii.gz").unlink()
    _, pre = _params()
    with pytest.raises(Exception, match=r"patient P000.*portal_ct.*does not exist"):
        SequentialRunner().run(create_pipeline(), _catalog(manifest, tmp_path / "a", pre))
