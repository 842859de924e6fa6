"""The `deep_features` pipeline on an in-memory + versioned catalog built from the project's
own YAML (dataset factories included). A stand-in extractor replaces DenseNet so that the
wiring, the ICC filter, the outputs and the failure behaviour are tested in seconds."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from kedro.io import DataCatalog, MemoryDataset
from kedro.runner import SequentialRunner

from hcc_nomogram.errors import InputDataError
from hcc_nomogram.features.densenet import WeightsProvenance
from hcc_nomogram.pipelines.deep_features import create_pipeline, nodes

CONF = Path(__file__).resolve().parents[2] / "conf" / "base"
PATIENTS = [f"P{i:03d}" for i in range(6)]


class StandInExtractor:
    """Deterministic, DenseNet-shaped: 1024 ReLU features of the 8x8-pooled crop."""

    def __init__(self):
        self.provenance = WeightsProvenance(
            "random", "random", is_imagenet=False, fallback=False, seed=0
        )
        self.weights_source = "random"
        self._w = np.random.default_rng(0).normal(size=(64, 1024))
        self.calls = 0

    def extract(self, crops):
        self.calls += 1
        pooled = np.asarray(crops).reshape(len(crops), 8, 28, 8, 28).mean(axis=(2, 4))
        return np.maximum(pooled.reshape(len(crops), 64) @ self._w, 0).astype(np.float32)


def _params() -> dict:
    out = {}
    for name in ("parameters.yml", "parameters_deep_features.yml"):
        out.update(yaml.safe_load((CONF / name).read_text(encoding="utf-8")))
    return out


def _flatten(prefix: str, value, out: dict) -> None:
    out[prefix] = value
    if isinstance(value, dict):
        for key, sub in value.items():
            _flatten(f"{prefix}.{key}", sub, out)


def make_crops(nan_patient: str | None = None) -> dict[str, dict[str, np.ndarray]]:
    rng = np.random.default_rng(1)
    crops = {}
    for patient in PATIENTS:
        archive = {}
        for phase in ("arterial", "portal"):
            base = rng.normal(size=(224, 224)).astype(np.float32)
            for delineation, noise in (("r1a", 0.0), ("r1b", 0.05), ("r2", 0.1)):
                image = base + noise * rng.normal(size=base.shape).astype(np.float32)
                archive[f"{phase}__{delineation}__image"] = image
                archive[f"{phase}__{delineation}__mask"] = np.ones((224, 224), np.uint8)
        crops[patient] = archive
    if nan_patient:
        crops[nan_patient]["portal__r2__image"][5, 5] = np.nan
    return crops


def make_catalog(crops, save_version: str, extractor) -> DataCatalog:
    config = yaml.safe_load((CONF / "catalog_deep_features.yml").read_text(encoding="utf-8"))
    catalog = DataCatalog.from_config(config, save_version=save_version)
    params = {}
    for key, value in _params().items():
        _flatten(f"params:{key}", value, params)
    params["params:compute"] = {"mode": "synchronous"}  # the stand-in runs in this process
    for name, value in params.items():
        catalog[name] = MemoryDataset(value, copy_mode="assign")
    manifest = pd.DataFrame(
        {
            "patient_id": PATIENTS,
            "center": ["A", "A", "A", "B", "B", "B"],
            "cohort": ["training"] * 4 + ["validation"] * 2,
        }
    )
    catalog["cohort_manifest"] = MemoryDataset(manifest)
    catalog["preprocessed_crops"] = MemoryDataset(crops, copy_mode="assign")
    return catalog


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    extractor = StandInExtractor()
    monkeypatch.setattr(nodes, "make_extractor", lambda settings: extractor)
    return tmp_path, extractor


def _versions(root: Path) -> dict[str, int]:
    return {
        str(p.relative_to(root)): len(list(p.iterdir()))
        for p in root.rglob("*")
        if p.is_dir() and p.suffix in {".parquet", ".json"}
    }


def test_pipeline_outputs_and_namespaces(project):
    root, extractor = project
    catalog = make_catalog(make_crops(), "2026-01-01T00.00.00.000Z", extractor)
    SequentialRunner().run(create_pipeline(), catalog)
    assert extractor.calls == 2  # one batch call per phase; model built once (stand-in)

    arterial = catalog.load("arterial.deep_features")
    assert arterial.shape == (len(PATIENTS) * 3, 3 + 1024)
    assert list(arterial.columns[:4]) == [
        "patient_id",
        "delineation",
        "weights_source",
        "arterial_f0000",
    ]
    assert arterial.columns[-1] == "arterial_f1023"
    assert set(arterial["weights_source"]) == {"random"}

    icc = catalog.load("portal.icc_table")
    assert len(icc) == 1024 and {"intra_icc", "inter_ci_lower", "reproducible"} <= set(icc.columns)
    passed = icc["reproducible"]
    assert 0 < passed.sum() < 1024  # dead (all-zero) features are NaN -> dropped
    assert (icc.loc[passed, ["intra_icc", "inter_icc"]] > 0.75).all().all()

    model_input = catalog.load("model_input_features")
    assert list(model_input.columns[:3]) == ["patient_id", "center", "cohort"]
    assert model_input["patient_id"].tolist() == PATIENTS
    n_art = sum(c.startswith("arterial_f") for c in model_input.columns)
    n_por = sum(c.startswith("portal_f") for c in model_input.columns)
    assert n_art + n_por + 3 == model_input.shape[1] and n_art > 0 and n_por > 0
    assert model_input.attrs["weights_source"] == "random"  # survives the parquet round trip
    r1a = arterial[arterial["delineation"] == "r1a"].set_index("patient_id")
    kept = [c for c in model_input.columns if c.startswith("arterial_f")]
    np.testing.assert_allclose(model_input.set_index("patient_id")[kept], r1a[kept])

    provenance = catalog.load("densenet_weights_provenance")
    assert provenance["weights_source"] == "random" and provenance["is_imagenet"] is False
    json.dumps(provenance)
    assert all(n == 1 for n in _versions(root / "data").values())


def test_bad_crop_fails_before_any_output_and_keeps_old_versions(project):
    root, extractor = project
    SequentialRunner().run(
        create_pipeline(), make_catalog(make_crops(), "2026-01-01T00.00.00.000Z", extractor)
    )
    before = _versions(root / "data")
    catalog = make_catalog(make_crops(nan_patient="P003"), "2026-01-02T00.00.00.000Z", extractor)
    with pytest.raises(InputDataError, match=r"P003.*NaN") as info:
        SequentialRunner().run(create_pipeline(), catalog)
    assert "portal__r2__image" in str(info.value)
    assert _versions(root / "data") == before
    assert len(before) == 6  # 2 x deep_features, 2 x icc_table, model input, provenance


def test_wrong_shape_and_missing_primary_crop_name_the_patient():
    contract = _params()["data_contract"]
    crops = make_crops()
    crops["P002"]["arterial__r1b__image"] = np.zeros((128, 128), np.float32)
    with pytest.raises(InputDataError, match=r"P002.*shape \(128, 128\)"):
        nodes.collect_phase_crops(crops, "arterial", contract)
    del crops["P004"]["portal__r1a__image"]
    with pytest.raises(InputDataError, match=r"P004.*primary delineation"):
        nodes.collect_phase_crops(crops, "portal", contract)


def test_missing_repeat_delineation_is_skipped_for_icc_only():
    contract = _params()["data_contract"]
    crops = {f"{p}.npz": a for p, a in make_crops().items()}  # partition keys with suffix
    del crops["P001.npz"]["arterial__r2__image"]
    index, stack = nodes.collect_phase_crops(crops, "arterial", contract)
    assert len(index) == len(stack) == len(PATIENTS) * 3 - 1
    assert index["patient_id"].iloc[0] == "P000"


def test_no_reproducible_feature_is_an_error():
    contract = _params()["data_contract"]
    empty = pd.DataFrame(index=pd.Index(PATIENTS, name="patient_id"))
    manifest = pd.DataFrame({"patient_id": PATIENTS, "center": "A", "cohort": "training"})
    with pytest.raises(InputDataError, match="no deep feature passed"):
        nodes.assemble_model_input_features(manifest, contract, empty, empty)


def test_icc_settings_are_validated():
    contract = _params()["data_contract"]
    table = pd.DataFrame({"patient_id": ["a"], "delineation": ["r1a"], "f": [1.0]})
    with pytest.raises(ValueError, match="two different delineations"):
        nodes.compute_feature_icc(
            table, {"threshold": 0.75, "comparisons": {"x": ["r1a", "r9"]}}, contract
        )
    with pytest.raises(InputDataError, match=r"deep_features\.icc\.threshold"):
        nodes.compute_feature_icc(table, {"threshold": 1.5, "comparisons": {}}, contract)
