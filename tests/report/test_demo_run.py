"""The report of a small REAL run (tiny demo cohort -> default pipeline): every section is
there and drawn from the signature and nomogram pipelines' own datasets."""

import numpy as np
import pandas as pd
import pytest
from demo_run import latest, section_ids

from hcc_nomogram.pipelines.reporting.pipeline import CLINICAL_SECTIONS, WIRED_SECTIONS

pytestmark = pytest.mark.slow


def test_demo_report_has_every_section_in_order(demo_project):
    html = latest(demo_project, "data/08_reporting/hcc_nomogram_report.html").read_text(
        encoding="utf-8"
    )
    assert section_ids(html) == list(WIRED_SECTIONS)
    weights = pd.read_csv(latest(demo_project, "data/06_models/signature_weights.csv"))
    for feature in weights["feature"]:
        assert feature in html
    assert "Table 2." in html and "RMSE" in html and "Log-rank" in html
    clinical = latest(demo_project, "data/08_reporting/hcc_nomogram_clinical_report.html")
    assert section_ids(clinical.read_text(encoding="utf-8"))[: len(CLINICAL_SECTIONS)] == list(
        CLINICAL_SECTIONS
    )


def test_every_demo_figure_has_json_and_png(demo_project):
    from hcc_nomogram.pipelines.reporting.pipeline import SECTION_FIGURES

    for fig in (f for s in WIRED_SECTIONS for f in SECTION_FIGURES[s]):
        assert latest(demo_project, f"data/08_reporting/figures/{fig}.json").stat().st_size > 0
        assert latest(demo_project, f"data/08_reporting/figures/{fig}.png").stat().st_size > 0


def test_cam_network_is_the_feature_network(demo_project):
    """The DenseNet rebuilt from densenet_weights_provenance gives the run's own features, and
    each CAM averages to the weighted sum of the pooled features (Zhou et al. 2016)."""
    import json

    from hcc_nomogram.datasets import NpzDataset
    from hcc_nomogram.features.cam import class_activation_map, signature_feature_weights
    from hcc_nomogram.pipelines.reporting.nodes import build_cam_extractor

    prov = json.loads(
        latest(demo_project, "data/06_models/densenet_weights_provenance.json").read_text(
            encoding="utf-8"
        )
    )
    extractor = build_cam_extractor(prov, {"batch_size": 4})
    features = pd.read_parquet(
        latest(demo_project, "data/05_model_input/model_input_features.parquet")
    )
    weights = pd.read_csv(latest(demo_project, "data/06_models/signature_weights.csv"))
    row = features.iloc[0]
    crops = NpzDataset(
        str(demo_project / "data/03_primary/crops" / f"{row['patient_id']}.npz")
    ).load()
    for phase in ("arterial", "portal"):
        w = signature_feature_weights(dict(zip(weights["feature"], weights["weight"])), phase)
        if not w:
            continue
        crop = crops[f"{phase}__r1a__image"]
        maps = extractor.feature_maps(crop[None])[0]
        pooled = maps.mean(axis=(0, 1))
        cols = [f"{phase}_f{j:04d}" for j in w]
        np.testing.assert_allclose(pooled[list(w)], row[cols].to_numpy(float), rtol=1e-4, atol=1e-6)
        cam = class_activation_map(maps, w)
        assert cam.mean() == pytest.approx(sum(v * pooled[j] for j, v in w.items()), rel=1e-6)


def test_demo_run_writes_the_calculator_and_the_tripod_checklist(demo_project):
    page = latest(demo_project, "data/08_reporting/nomogram_calculator.html").read_text(
        encoding="utf-8"
    )
    assert 'id="calculator-data"' in page and "RANDOM DenseNet-121 weights" in page
    checklist = pd.read_csv(
        latest(demo_project, "data/08_reporting/tripod_ai_checklist.csv"), dtype={"item": str}
    ).set_index("item")
    assert checklist.index[0] == "1" and checklist.index[-1] == "27c"
    # item 21 quotes the patients and events of the run's own discrimination tables
    for model in ("clinical", "integrated"):
        disc = pd.read_csv(
            latest(demo_project, f"data/08_reporting/nomogram/{model}_discrimination.csv")
        )
        for row in disc.itertuples():
            assert (
                f"{model} nomogram, {row.cohort}: {row.n} patients, {row.n_events} events"
                in checklist.loc["21", "answer"]
            )
    markdown = latest(demo_project, "data/08_reporting/tripod_ai_checklist.md").read_text(
        encoding="utf-8"
    )
    assert "(hcc_nomogram_report.html#discrimination)" in markdown
