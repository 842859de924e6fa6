"""The `predict` pipeline end to end: train on the tiny demo cohort (preprocessing, deep_features
with random weights, signature, nomogram, training record) with the project's own catalog
YAML in a temporary folder, then predict the validation patients as if they were new and
check that every number equals what the training pipelines computed for them. Then the guard
rails: other feature settings or weights, a missing clinical value, an out-of-range value."""

from __future__ import annotations

import copy
import pickle
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import SimpleITK as sitk
import yaml
from kedro.io import DataCatalog, MemoryDataset
from kedro.runner import SequentialRunner

from hcc_nomogram.errors import InputDataError
from hcc_nomogram.pipelines.deep_features import create_pipeline as deep_features_pipeline
from hcc_nomogram.pipelines.nomogram import create_pipeline as nomogram_pipeline
from hcc_nomogram.pipelines.predict import create_pipeline as predict_pipeline
from hcc_nomogram.pipelines.predict import nodes
from hcc_nomogram.pipelines.predict.guards import ModelMismatchError
from hcc_nomogram.pipelines.predict.pipeline import create_training_record_pipeline
from hcc_nomogram.pipelines.preprocessing import create_pipeline as preprocessing_pipeline
from hcc_nomogram.pipelines.signature import create_pipeline as signature_pipeline
from hcc_nomogram.report.static import browser_path

sys.path.insert(0, str(Path(__file__).parents[1] / "report"))
from browser import find_chromium  # noqa: E402
from calculator_harness import fill_and_read, printed  # noqa: E402

CONF = Path(__file__).resolve().parents[2] / "conf" / "base"
HORIZONS = [12, 24, 36]

#: small grids so that the whole training takes well under a minute on 2 CPU cores
OVERRIDES = {
    "deep_features": {"weights": "random", "seed": 11, "batch_size": 16},
    "signature": {
        "mrmr": {"n_ranked": 20, "pool_size": 60},
        "cv": {"n_folds": 3, "k_grid": [5, 10], "l1_ratio_grid": [0.5, 1.0], "n_alphas": 12},
    },
    # a few factors only: 12 training patients separate sparse categorical levels
    "nomogram": {
        "bootstrap": {"n_resamples": 2},
        "min_events": 3,
        "univariate_p_threshold": 1.0,
        "stepwise": {"k": 0.01},  # keep every factor
        "calibration": {"n_groups": 2, "min_group": 2},
        "candidate_factors": [
            {
                "name": "age",
                "column": "age_years",
                "kind": "continuous",
                "step": 10,
                "label": "Age (per 10 y)",
            },
            {
                "name": "tumor_size",
                "column": "tumor_size_cm",
                "kind": "continuous",
                "cutoff": 5,
                "label": "Tumour size > 5 cm",
            },
            {
                "name": "bclc",
                "column": "bclc",
                "kind": "categorical",
                "reference": "B",
                "label": "BCLC C",
            },
        ],
    },
}


def _merge(base: dict, extra: dict) -> dict:
    out = copy.deepcopy(base)
    for key, value in extra.items():
        out[key] = _merge(out.get(key, {}), value) if isinstance(value, dict) else value
    return out


def project_parameters(**extra) -> dict:
    params = {}
    for path in sorted(CONF.glob("parameters*.yml")):
        params.update(yaml.safe_load(path.read_text(encoding="utf-8")) or {})
    return _merge(_merge(params, OVERRIDES), extra)


def _flatten(prefix: str, value, out: dict) -> None:
    out[prefix] = value
    if isinstance(value, dict):
        for key, sub in value.items():
            _flatten(f"{prefix}.{key}", sub, out)


def make_catalog(cohort: Path, new_folder: Path, params: dict) -> DataCatalog:
    """The project's catalog (relative paths -> the current, temporary folder)."""
    config = {}
    for path in sorted(CONF.glob("catalog*.yml")):
        config.update(
            {
                k: v
                for k, v in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).items()
                if not k.startswith("_")
            }
        )
    config["cohort_manifest"]["filepath"] = str(cohort / "manifest.csv")
    config["clinical_table"]["filepath"] = str(cohort / "clinical.csv")
    config["predict_manifest"]["filepath"] = str(new_folder / "manifest.csv")
    config["predict_clinical"]["filepath"] = str(new_folder / "clinical.csv")
    catalog = DataCatalog.from_config(config)
    flat: dict = {}
    for key, value in params.items():
        _flatten(f"params:{key}", value, flat)
    for name, value in flat.items():
        catalog[name] = MemoryDataset(value, copy_mode="deepcopy")
    return catalog


def write_new_patients(
    cohort: Path, folder: Path, *, primary_only: bool = False, edit=None
) -> Path:
    """The validation patients as a 'new patient' folder: manifest (absolute image paths) and a
    clinical table without outcomes."""
    folder.mkdir(parents=True, exist_ok=True)
    manifest = pd.read_csv(cohort / "manifest.csv", dtype={"patient_id": str})
    manifest = manifest[manifest["cohort"] == "validation"].drop(columns=["cohort"])
    for col in manifest.columns[2:]:
        manifest[col] = [str(cohort / p) for p in manifest[col]]
    if primary_only:
        manifest = manifest.drop(
            columns=[c for c in manifest.columns if c.endswith(("_r1b", "_r2"))]
        )
    manifest.to_csv(folder / "manifest.csv", index=False)
    clinical = pd.read_csv(cohort / "clinical.csv", dtype={"patient_id": str})
    clinical = clinical[clinical["patient_id"].isin(manifest["patient_id"])]
    clinical = clinical.drop(
        columns=[c for c in clinical.columns if c.startswith(("os_", "pfs_")) or c == "cohort"]
    )
    if edit is not None:
        clinical = edit(clinical)
    clinical.to_csv(folder / "clinical.csv", index=False)
    return folder


@pytest.fixture(scope="module")
def trained(tiny_demo_cohort, tmp_path_factory):
    """One training run on the tiny cohort, saved (versioned) under a temporary data/."""
    root = tmp_path_factory.mktemp("predict_project")
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(root)
        new = write_new_patients(tiny_demo_cohort, root / "new_patients")
        catalog = make_catalog(tiny_demo_cohort, new, project_parameters())
        training = (
            preprocessing_pipeline()
            + deep_features_pipeline()
            + signature_pipeline()
            + nomogram_pipeline()
            + create_training_record_pipeline()
        )
        SequentialRunner().run(training, catalog)
    return root


def run_predict(root: Path, cohort: Path, new: Path, **params) -> DataCatalog:
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(root)
        catalog = make_catalog(cohort, new, project_parameters(**params))
        SequentialRunner().run(predict_pipeline(), catalog)
        for name in (
            "patient_predictions",
            "patient_survival_curves",
            "model_card",
            "predict_preprocessing_qc",
            "integrated.nomogram_model",
            "signature_scores",
            "integrated.nomogram_predictions",
            "training_settings",
        ):
            catalog[f"loaded:{name}"] = MemoryDataset(catalog.load(name), copy_mode="assign")
        catalog["loaded:pages"] = MemoryDataset(
            {k: v() for k, v in catalog.load("patient_reports").items()}, copy_mode="assign"
        )
    return catalog


@pytest.fixture(scope="module")
def predicted(trained, tiny_demo_cohort):
    return run_predict(trained, tiny_demo_cohort, trained / "new_patients")


def test_predictions_equal_the_training_pipelines(predicted):
    pred = predicted.load("loaded:patient_predictions").set_index("patient_id")
    ref = predicted.load("loaded:integrated.nomogram_predictions")
    ref = ref[ref["cohort"] == "validation"].set_index("patient_id")
    scores = predicted.load("loaded:signature_scores").set_index("patient_id")
    assert sorted(pred.index) == sorted(ref.index) and len(pred) >= 5
    ref, scores = ref.loc[pred.index], scores.loc[pred.index]
    tight = {"rtol": 1e-12, "atol": 1e-12}  # measured: identical to ~1e-16
    np.testing.assert_allclose(pred["signature_lp"], scores["signature_lp"], **tight)
    np.testing.assert_allclose(pred["signature_score"], scores["signature_score"], **tight)
    for col in ["linear_predictor", "total_points", *[f"surv_{h}" for h in HORIZONS]]:
        np.testing.assert_allclose(pred[col], ref[col], err_msg=col, **tight)
    assert (pred["risk_group"] == ref["risk_group"]).all()
    np.testing.assert_allclose(pred["lp_cutoff"], ref["lp_cutoff"])
    assert set(pred["weights_source"]) == {"random"}


def test_curves_pages_qc_and_model_card(predicted):
    pred = predicted.load("loaded:patient_predictions")
    curves = predicted.load("loaded:patient_survival_curves")
    model = predicted.load("loaded:integrated.nomogram_model")
    for row in pred.itertuples():
        curve = curves[curves["patient_id"] == row.patient_id].set_index("time")["survival"]
        assert curve.iloc[0] == pytest.approx(1.0) and curve.is_monotonic_decreasing
        np.testing.assert_allclose(curve.loc[12.0], row.surv_12, rtol=1e-9)
    np.testing.assert_allclose(curves["time"].max(), np.floor(model.fit.baseline_time.max()))

    pages = predicted.load("loaded:pages")
    assert sorted(pages) == sorted(pred["patient_id"])
    page = pages[pred["patient_id"].iloc[0]]
    assert page.startswith("<!DOCTYPE html>") and "</html>" in page
    assert "RANDOM DenseNet-121 weights" in page  # loud banner
    if browser_path():  # kaleido + Chromium render the figures
        assert page.count("data:image/png;base64,") == 2  # survival curve + CAMs, inline
    else:
        assert page.count("no Chrome/Chromium on this machine") == 2
    assert "http://" not in page and "https://" not in page  # self-contained
    assert len(page) < 600_000

    qc = predicted.load("loaded:predict_preprocessing_qc")
    assert not qc["excluded"].any() and len(qc) == len(pred)

    card = predicted.load("loaded:model_card")
    for text in (
        "## Intended use",
        "## Weights provenance",
        "Checked in this run",
        "## Performance (95% CI)",
        "## Calibration",
        "## Known limitations",
        "Single-slice 2D",
        "RANDOM DenseNet-121 weights",
        "training",
        "validation",
        "ci_lower",
    ):
        assert text in card, text
    settings = predicted.load("loaded:training_settings")
    assert settings["preprocessing"]["crop"]["size"] == 224
    assert settings["densenet_weights_provenance"]["seed"] == 11


def _output_versions(root: Path) -> list[str]:
    """Every saved version of every versioned predict output (a refused run adds none)."""
    outputs = [
        root / "data/08_reporting/predict/predict_preprocessing_qc.csv",
        root / "data/04_feature/predict/predict_deep_features.parquet",
        root / "data/07_model_output/predict/patient_predictions.csv",
        root / "data/06_models/model_card.md",
    ]
    return sorted(str(v) for o in outputs if o.exists() for v in o.iterdir())


def test_other_preprocessing_settings_are_refused(trained, tiny_demo_cohort):
    before = _output_versions(trained)
    with pytest.raises(ModelMismatchError, match=r"preprocessing\.crop\.fill_hu.*-1000.*-900"):
        run_predict(
            trained,
            tiny_demo_cohort,
            trained / "new_patients",
            preprocessing={"crop": {"fill_hu": -900}},
        )
    assert _output_versions(trained) == before


def test_other_weights_are_refused(trained, tiny_demo_cohort):
    before = _output_versions(trained)
    with pytest.raises(ModelMismatchError, match=r"seed: trained with 11, now 12"):
        run_predict(trained, tiny_demo_cohort, trained / "new_patients", deep_features={"seed": 12})
    assert _output_versions(trained) == before


def _latest_pickle(model_dir: Path):
    with open(sorted(model_dir.iterdir())[-1] / model_dir.name, "rb") as handle:
        return pickle.load(handle)


def _model_and_training(root: Path):
    model = _latest_pickle(root / "data/06_models/nomogram/integrated_nomogram_model.pkl")
    table_dir = root / "data/05_model_input/analysis_table.csv"
    table = pd.read_csv(sorted(table_dir.iterdir())[-1] / table_dir.name, dtype={"patient_id": str})
    return model, table


def _clinical_terms(model):
    return [t for t in model.terms if t.column != "signature_score"]


def test_missing_clinical_value_names_patient_and_column(trained, tiny_demo_cohort):
    model, _ = _model_and_training(trained)
    terms = _clinical_terms(model)
    if not terms:
        pytest.skip("the tiny integrated nomogram kept no clinical factor")
    column = terms[0].column
    box = {}

    def drop_value(clinical):
        box["patient"] = clinical["patient_id"].iloc[1]
        clinical.loc[clinical.index[1], column] = np.nan
        return clinical

    new = write_new_patients(tiny_demo_cohort, trained / "new_missing", edit=drop_value)
    with pytest.raises(InputDataError) as info:
        run_predict(trained, tiny_demo_cohort, new)
    assert info.value.patient == box["patient"] and info.value.column == column
    assert "missing value" in str(info.value)


def test_missing_value_and_unknown_level_node_level(trained, tiny_demo_cohort):
    """Node-level checks with every candidate column of the trained model's terms."""
    from hcc_nomogram.datasets import CohortManifestDataset

    model, table = _model_and_training(trained)
    new = trained / "new_patients"
    manifest = CohortManifestDataset(str(new / "manifest.csv")).load()
    clinical = pd.read_csv(new / "clinical.csv", dtype={"patient_id": str})
    params = project_parameters()
    kwargs = dict(
        predict_manifest=manifest,
        integrated_nomogram_model=model,
        signature_model=_latest_pickle(trained / "data/06_models/signature_model.pkl"),
        analysis_table=table,
        data_contract=params["data_contract"],
        nomogram=params["nomogram"],
    )
    checked = nodes.validate_new_clinical(predict_clinical=clinical, **kwargs)
    other_run = table.assign(signature_lp=table["signature_lp"] * 1.01)
    with pytest.raises(ModelMismatchError, match="different training runs"):
        nodes.validate_new_clinical(
            predict_clinical=clinical, **{**kwargs, "analysis_table": other_run}
        )
    assert list(checked["patient_id"]) == manifest.patient_ids
    with pytest.raises(InputDataError, match="no row in the clinical table"):
        nodes.validate_new_clinical(predict_clinical=clinical.iloc[1:], **kwargs)
    for term in _clinical_terms(model):
        bad = clinical.copy()
        if term.kind == "categorical":
            bad.loc[bad.index[0], term.column] = "never-seen"
            with pytest.raises(InputDataError, match="never seen in the training") as info:
                nodes.validate_new_clinical(predict_clinical=bad, **kwargs)
        else:
            bad = bad.drop(columns=[term.column])
            with pytest.raises(InputDataError, match="has no column") as info:
                nodes.validate_new_clinical(predict_clinical=bad, **kwargs)
        assert info.value.column == term.column


def _write_out_of_range_patients(trained, tiny_demo_cohort):
    """New patients (primary masks only): the first with a numeric factor far outside the
    training range (10 x its maximum), the second just outside it (within the margin)."""
    model, table = _model_and_training(trained)
    numeric = [t for t in _clinical_terms(model) if t.kind == "continuous"]
    assert numeric, "the test nomogram keeps age and tumour size (stepwise k=0.01)"
    column = numeric[0].column
    train = table[table["cohort"] == "training"]
    lo, hi = float(train[column].min()), float(train[column].max())
    box = {"column": column}

    def extreme(clinical):
        box["far"], box["near"] = clinical["patient_id"].iloc[0], clinical["patient_id"].iloc[1]
        clinical[column] = clinical[column].astype(float)
        clinical.loc[clinical.index[0], column] = hi * 10 + 1
        clinical.loc[clinical.index[1], column] = hi + 0.1 * (hi - lo)
        return clinical

    folder = trained / "new_primary"
    if not folder.exists():
        write_new_patients(tiny_demo_cohort, folder, primary_only=True, edit=extreme)
    else:
        extreme(pd.read_csv(folder / "clinical.csv", dtype={"patient_id": str}))
    return folder, box


def test_primary_delineation_only_and_out_of_range_value(trained, tiny_demo_cohort):
    """One reader's primary masks are enough; a value just outside the training range gives a
    warning and a highlighted row, one far outside it is refused (default
    ``predict.on_out_of_range: refuse``): no survival, no risk group, a banner on the page."""
    new, box = _write_out_of_range_patients(trained, tiny_demo_cohort)
    column = box["column"]
    assert not any(c.endswith("_r2") for c in pd.read_csv(new / "manifest.csv").columns)
    catalog = run_predict(trained, tiny_demo_cohort, new)
    pred = catalog.load("loaded:patient_predictions").set_index("patient_id")
    given = pred.drop(index=box["far"])
    assert len(pred) >= 5 and given["linear_predictor"].notna().all()
    assert given["risk_group"].isin(["low", "high"]).all()
    assert (given["prediction_status"] == "ok").all() and not given["out_of_range"].any()
    for pid in (box["far"], box["near"]):
        assert pred.loc[pid, "n_warnings"] >= 1
        assert f"{column}=" in pred.loc[pid, "warnings"]
        assert "outside the training range" in pred.loc[pid, "warnings"]
    far = pred.loc[box["far"]]
    assert far["prediction_status"] == "refused: out of range" and bool(far["out_of_range"])
    assert far["risk_group"] == "not given" and "far outside" in far["out_of_range_reasons"]
    assert np.isnan(
        [far["linear_predictor"], far["total_points"], *[far[f"surv_{h}"] for h in HORIZONS]]
    ).all()
    curves = catalog.load("loaded:patient_survival_curves")
    assert box["far"] not in set(curves["patient_id"]) and box["near"] in set(curves["patient_id"])
    # One reader's masks give exactly the signature computed in training with all three
    # (the secondary delineations never shape the primary crops).
    scores = catalog.load("loaded:signature_scores").set_index("patient_id").loc[pred.index]
    np.testing.assert_allclose(pred["signature_lp"], scores["signature_lp"], rtol=1e-12, atol=1e-12)
    pages = catalog.load("loaded:pages")
    assert "outside the training range" in pages[box["near"]] and "class=flag" in pages[box["near"]]
    assert "NO PREDICTION GIVEN" not in pages[box["near"]]
    assert "NO PREDICTION GIVEN" in pages[box["far"]] and "Withheld" in pages[box["far"]]
    assert "**refused**" in catalog.load("loaded:model_card")


def test_out_of_range_flag_mode_predicts_but_marks(trained, tiny_demo_cohort):
    """``on_out_of_range: flag``: the far-out patient is predicted, but its status, risk group
    and page say so (never a silent "low risk")."""
    new, box = _write_out_of_range_patients(trained, tiny_demo_cohort)
    catalog = run_predict(trained, tiny_demo_cohort, new, predict={"on_out_of_range": "flag"})
    far = catalog.load("loaded:patient_predictions").set_index("patient_id").loc[box["far"]]
    assert far["prediction_status"] == "flagged: out of range"
    assert far["risk_group"] in ("low (out of range)", "high (out of range)")
    assert np.isfinite(far["linear_predictor"]) and np.isfinite(far["surv_12"])
    assert "PREDICTION FLAGGED" in catalog.load("loaded:pages")[box["far"]]
    assert "**flagged**" in catalog.load("loaded:model_card")


def _write_corner_patient(trained, tiny_demo_cohort):
    """New patients (primary masks only) whose first patient's arterial (fixed-phase) images
    are cut at the tumour centroid, so that the tumour sits at the image corner: most of its
    crop lies outside the image (the issue's 'tumour cut by the image corner'). The portal
    images stay whole, so the registration onto the arterial grid still works."""
    folder = trained / "new_corner"
    write_new_patients(tiny_demo_cohort, folder, primary_only=True)
    manifest = pd.read_csv(folder / "manifest.csv", dtype={"patient_id": str})
    row = manifest.iloc[0]
    mask = sitk.ReadImage(row["arterial_mask_r1a"])
    z, y, x = np.nonzero(sitk.GetArrayFromImage(mask))
    corner = mask.TransformContinuousIndexToPhysicalPoint(
        (float(x.mean()), float(y.mean()), float(z.mean()))
    )
    for col in [c for c in manifest.columns if c.startswith("arterial_")]:
        image = sitk.ReadImage(row[col])
        ix, iy, _ = image.TransformPhysicalPointToIndex(corner)
        nx, ny, nz = image.GetSize()
        path = folder / f"corner_{col}.nii.gz"
        sitk.WriteImage(
            sitk.RegionOfInterest(image, [nx - ix, ny - iy, nz], [ix, iy, 0]), str(path)
        )
        manifest.loc[0, col] = str(path)
    manifest.to_csv(folder / "manifest.csv", index=False)
    return folder, row["patient_id"]


def test_crop_mostly_outside_the_image_is_refused(trained, tiny_demo_cohort):
    """A tumour at the image corner: its crop lies far more outside the image than any training
    crop (relative to the training preprocessing_qc), so its prediction is refused; the normal
    new patients are not refused for their crops."""
    new, corner = _write_corner_patient(trained, tiny_demo_cohort)
    catalog = run_predict(trained, tiny_demo_cohort, new)
    pred = catalog.load("loaded:patient_predictions").set_index("patient_id")
    qc = catalog.load("loaded:predict_preprocessing_qc").set_index("patient_id")
    assert qc.loc[corner, "arterial__r1a__crop_outside_fraction"] > 0.9 * (
        1 - (1 - qc.drop(index=corner)["arterial__r1a__crop_outside_fraction"].max()) / 4
    )
    bad = pred.loc[corner]
    assert bad["prediction_status"] == "refused: out of range" and bad["risk_group"] == "not given"
    assert "crop mostly outside the body" in bad["out_of_range_reasons"]
    assert "arterial__r1a__crop_outside_fraction" in bad["out_of_range_reasons"]
    assert "crop mostly outside" in catalog.load("loaded:pages")[corner]
    others = pred.drop(index=corner)
    assert len(others) >= 4
    assert not others["out_of_range_reasons"].fillna("").str.contains("crop").any()
    assert "crop_outside_fraction" in catalog.load("loaded:model_card")


# ----- the offline nomogram calculator (reporting pipeline) against the predictions ------------
def _calculator_page(root: Path, cohort: Path) -> str:
    """Run the reporting pipeline's calculator node on the trained run's catalog."""
    from hcc_nomogram.pipelines.reporting import create_pipeline as reporting_pipeline

    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(root)
        catalog = make_catalog(cohort, root / "new_patients", project_parameters())
        SequentialRunner().run(reporting_pipeline().only_nodes("build_calculator_section"), catalog)
        return catalog.load("nomogram_calculator")


@pytest.mark.slow
@pytest.mark.skipif(
    find_chromium() is None, reason="no Chromium/Chrome installed: `apt-get install -y chromium`"
)
def test_calculator_page_gives_the_predict_pipelines_numbers(
    trained, tiny_demo_cohort, predicted, tmp_path
):
    """Headless Chromium fills the calculator's fields with each new patient's values (input /
    change events, as a user would), and the DOM must show patient_predictions (integrated) and
    the training run's clinical predictions to every printed digit (data-value: 1e-12)."""
    page = _calculator_page(trained, tiny_demo_cohort)
    assert "http://" not in page and "https://" not in page  # offline: nothing to fetch
    assert "RANDOM DenseNet-121 weights" in page.split("<h1>")[0]  # same banner as the report
    pred = predicted.load("loaded:patient_predictions").set_index("patient_id")
    model = predicted.load("loaded:integrated.nomogram_model")
    clinical = pd.read_csv(trained / "new_patients" / "clinical.csv", dtype={"patient_id": str})
    clinical = clinical.set_index("patient_id").loc[pred.index]
    clinical_model_dir = trained / "data/06_models/nomogram/clinical_nomogram_model.pkl"
    with open(sorted(clinical_model_dir.iterdir())[-1] / clinical_model_dir.name, "rb") as f:
        clinical_model = pickle.load(f)
    terms = {t.column: t for t in (*clinical_model.terms, *model.terms)}
    kinds = {t.kind if not t.is_binary_cut else "cut" for t in terms.values()}
    assert {"cut", "continuous"} <= kinds, kinds  # binary cut-off and per-step terms
    patients = []
    for pid in pred.index:
        values = {
            c: str(clinical.loc[pid, c])
            if t.kind == "categorical"
            else repr(float(clinical.loc[pid, c]))
            for c, t in terms.items()
            if c != "signature_score"
        }
        values["signature_score"] = repr(float(pred.loc[pid, "signature_score"]))
        patients.append({"id": pid, "values": values})
    table = pd.read_csv(trained / "new_patients" / "clinical.csv")
    extreme = {"tumor_size_cm": repr(float(table["tumor_size_cm"].max()) * 10 + 1)}
    got = fill_and_read(page, patients, ["clinical", "integrated"], tmp_path, extremes=[extreme])
    clin_path = trained / "data/07_model_output/nomogram/clinical_nomogram_predictions.csv"
    clin = pd.read_csv(
        sorted(clin_path.iterdir())[-1] / clin_path.name, dtype={"patient_id": str}
    ).set_index("patient_id")
    assert len(got["results"]) == len(pred) >= 5
    for res in got["results"]:
        for m, ref in (("integrated", pred.loc[res["id"]]), ("clinical", clin.loc[res["id"]])):
            cells = res["cells"]
            for key, text in printed(ref, HORIZONS).items():
                assert cells[f"{m}-{key}"]["text"] == text, (m, res["id"], key)
            for key, col in (
                ("total_points", "total_points"),
                ("linear_predictor", "linear_predictor"),
                *[(f"surv-{j}", f"surv_{h}") for j, h in enumerate(HORIZONS)],
            ):
                if np.isnan(ref[col]):  # withheld by predict (far out of range)
                    assert cells[f"{m}-{key}"]["value"] == ""
                    continue
                np.testing.assert_allclose(
                    float(cells[f"{m}-{key}"]["value"]),
                    ref[col],
                    rtol=1e-12,
                    atol=1e-12,
                    err_msg=f"{m} {key}",
                )
    # tumour size far outside training: withheld (predict.on_out_of_range: refuse)
    far = got["extremes"][0]
    assert far["flags"]["tumor_size_cm"]["flag"] == "yes"
    assert "far outside the training range" in far["flags"]["tumor_size_cm"]["warning"]
    for m, mod in (("clinical", clinical_model), ("integrated", model)):
        if any(t.column == "tumor_size_cm" for t in mod.terms):
            assert far["cells"][f"{m}-risk_group"]["text"] == "not given"
