"""The offline nomogram calculator page (report/calculator.py) on real Cox nomograms fitted to
the synthetic cohort: the page's numbers equal the frozen model's Python code path (the one
the predict pipeline calls), for every encoding (categorical level, binary cut-off, per-step
continuous). Browser tests skip without Chromium (`apt-get install -y chromium`)."""

import json
import re

import numpy as np
import pandas as pd
import pytest
import synthetic as S
from browser import dump_dom, find_chromium
from calculator_harness import fill_and_read, printed

from hcc_nomogram.parameters import PredictParams
from hcc_nomogram.report.calculator import calculator_page, input_specs, model_spec
from hcc_nomogram.report.errors import ReportInputError
from hcc_nomogram.report.provenance import weights_banner
from hcc_nomogram.stats.nomogram import NomogramModel

HORIZONS = [12, 24, 36]
needs_chromium = pytest.mark.skipif(
    find_chromium() is None, reason="no Chromium/Chrome installed: `apt-get install -y chromium`"
)


@pytest.fixture(scope="module")
def models():
    found = S.nomogram_models(True)
    return found["clinical.nomogram_model"], found["integrated.nomogram_model"]


@pytest.fixture(scope="module")
def table():
    return S.analysis_table()


def _page(models, table, **kwargs):
    train = table[table["cohort"] == "training"]
    return calculator_page(list(models), train, horizons=HORIZONS, **kwargs)


def _data(page: str) -> dict:
    raw = re.search(
        r'<script id="calculator-data" type="application/json">(.*?)</script>', page, re.S
    ).group(1)
    return json.loads(raw.replace("<\\/", "</"))


def test_spec_carries_the_exact_model_numbers(models):
    clinical, integrated = models
    spec = model_spec(integrated, HORIZONS)
    assert [c["covariate"] for c in spec["columns"]] == list(integrated.fit.covariates)
    assert [c["coef"] for c in spec["columns"]] == list(integrated.fit.coef)  # bit-exact
    assert {c["encoding"] for c in spec["columns"]} == {"level", "above", "per_step"}
    # S0 at each horizon read by hand from the Breslow step function: exp(-H0) at the last
    # event time <= horizon
    t, h0 = integrated.fit.baseline_time, integrated.fit.baseline_cumhaz
    for horizon, s0 in zip(HORIZONS, spec["baseline_survival"]):
        assert s0 == np.exp(-h0[np.flatnonzero(t <= horizon)[-1]])
    assert spec["lp_cutoff"] == integrated.lp_cutoff
    assert not model_spec(NomogramModel.unavailable("integrated", "no signature"), HORIZONS)[
        "available"
    ]


def test_inputs_have_training_levels_and_ranges(models, table):
    train = table[table["cohort"] == "training"]
    inputs = {s["column"]: s for s in input_specs(models, train)}
    assert list(inputs) == ["age", "bclc", "signature_score"]  # union, first use order
    assert inputs["bclc"]["levels"] == ["B", "C"]  # reference first
    assert inputs["age"]["min"] == train["age"].min() and inputs["age"]["max"] == train["age"].max()
    assert inputs["signature_score"]["min"] == train["signature_score"].min()
    with pytest.raises(ReportInputError, match="'bclc'"):
        input_specs(models, train.drop(columns=["bclc"]))
    with pytest.raises(ReportInputError, match="no nomogram model is available"):
        calculator_page([NomogramModel.unavailable("clinical", "x")], train, horizons=HORIZONS)


def test_page_is_offline_and_carries_the_banner(models, table):
    banner = weights_banner(S.provenance("random"))
    page = _page(models, table, banner=banner)
    assert "http://" not in page and "https://" not in page and "<script src" not in page
    head, _ = page.split("<h1>", 1)
    assert 'class="banner"' in head and "RANDOM DenseNet-121 weights" in head
    assert 'class="banner"' not in _page(models, table)
    assert _data(page)["models"][1]["name"] == "integrated"


@needs_chromium
def test_page_numbers_equal_the_model_for_validation_patients(models, table, tmp_path):
    clinical, integrated = models
    valid = table[table["cohort"] == "validation"].head(12)
    patients = [
        {
            "id": r.patient_id,
            "values": {
                "age": repr(float(r.age)),
                "bclc": r.bclc,
                "signature_score": repr(r.signature_score),
            },
        }
        for r in valid.itertuples()
    ]
    page = _page(models, table, banner=weights_banner(S.provenance("random")))
    got = fill_and_read(page, patients, ["clinical", "integrated"], tmp_path)
    assert len(got["results"]) == len(valid)
    for model in models:
        ref = pd.DataFrame(
            {
                "linear_predictor": model.predict_lp(valid),
                "total_points": model.predict_points(valid),
            },
            index=valid.index,
        )
        ref = ref.join(model.predict_survival(valid, HORIZONS))
        ref["risk_group"] = np.where(ref["linear_predictor"] > model.lp_cutoff, "high", "low")
        assert ref["risk_group"].nunique() == 2  # both groups reached
        for res, (_, row) in zip(got["results"], ref.iterrows(), strict=True):
            cells = {
                k.split("-", 1)[1]: v
                for k, v in res["cells"].items()
                if k.startswith(model.name + "-")
            }
            assert {k: v["text"] for k, v in cells.items()} == printed(row, HORIZONS)
            for key, col in (
                ("total_points", "total_points"),
                ("linear_predictor", "linear_predictor"),
                *[(f"surv-{j}", f"surv_{h}") for j, h in enumerate(HORIZONS)],
            ):
                assert float(cells[key]["value"]) == pytest.approx(row[col], rel=1e-12, abs=1e-12)


@needs_chromium
@pytest.mark.parametrize("mode", ["refuse", "flag"])
def test_far_out_of_range_follows_the_predict_rule(models, table, tmp_path, mode):
    """Inside the range: no flag; outside: a warning; beyond margin x width: the predict
    pipeline's rule (its own function, guards.far_out_of_range, decides which values are far)."""
    from hcc_nomogram.pipelines.predict.guards import far_out_of_range

    train = table[table["cohort"] == "training"]
    lo, hi = float(train["age"].min()), float(train["age"].max())
    edge = hi + 0.5 * (hi - lo)  # the last value that is not far
    values = [hi, hi + 1, edge, edge + 0.5]
    far = [bool(far_out_of_range({"age": v}, {"age": (lo, hi)}, 0.5)) for v in values]
    assert far == [False, False, False, True]
    page = _page(models, table, guard=PredictParams(on_out_of_range=mode, out_of_range_margin=0.5))
    start = {"id": "p", "values": {"age": "60", "bclc": "C", "signature_score": "0.5"}}
    got = fill_and_read(
        page,
        [start],
        ["clinical", "integrated"],
        tmp_path,
        extremes=[{"age": repr(v)} for v in values],
    )
    for v, is_far, res in zip(values, far, got["extremes"], strict=True):
        assert res["flags"]["age"]["flag"] == ("no" if v <= hi else "yes")
        assert ("far outside" in res["flags"]["age"]["warning"]) == is_far
        for m in ("clinical", "integrated"):  # both models use age
            group, points = res["cells"][f"{m}-risk_group"], res["cells"][f"{m}-total_points"]
            if is_far and mode == "refuse":
                assert group["text"] == "not given" and points["text"] == "-"
            elif is_far:
                assert group["text"].endswith(" (out of range)") and points["text"] != "-"
            else:
                assert group["text"] in ("low", "high") and points["text"] != "-"


@needs_chromium
def test_clinical_only_page_and_missing_input(models, table, tmp_path):
    clinical, _ = models
    unavailable = NomogramModel.unavailable("integrated", "no signature column")
    page = _page([clinical, unavailable], table)
    assert "integrated nomogram: not available (no signature column)" in page
    got = fill_and_read(page, [{"id": "partial", "values": {"age": "61"}}], ["clinical"], tmp_path)
    cells = got["results"][0]["cells"]
    assert cells["clinical-total_points"]["text"] == "-"  # BCLC not chosen yet
    assert cells["clinical-total_points"]["value"] == ""


@needs_chromium
def test_report_embeds_and_links_the_calculator(report_html_path):
    dom, _ = dump_dom(report_html_path.as_uri())
    assert '<section id="calculator"' in dom
    assert re.search(r'id="calculator-embed"[^>]*data-loaded="yes"', dom)
    assert re.search(r'id="calculator-open" href="blob:', dom)
