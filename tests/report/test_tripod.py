"""The TRIPOD+AI checklist (report/tripod.py): numbering as published (Collins et al., BMJ
2024;385:e078378), answers computed from the run's records (checked against hand counts of the
synthetic inputs), links only to sections of the report being built."""

import re

import pandas as pd
import pytest
import synthetic as S

from hcc_nomogram.imaging.patient import PreprocessingSettings
from hcc_nomogram.parameters import DataContract
from hcc_nomogram.pipelines.nomogram.config import NomogramParams
from hcc_nomogram.pipelines.signature.params import SignatureParams
from hcc_nomogram.report.tripod import (
    AUTHORS,
    CHECKLIST,
    RUN,
    fill_checklist,
    run_records,
    validation_type,
)

#: The published checklist's numbering, written out from the paper's Table (27 items).
PUBLISHED = [
    "1",
    "2",
    "3a",
    "3b",
    "3c",
    "4",
    "5a",
    "5b",
    "6a",
    "6b",
    "6c",
    "7",
    "8a",
    "8b",
    "8c",
    "9a",
    "9b",
    "9c",
    "10",
    "11",
    "12a",
    "12b",
    "12c",
    "12d",
    "12e",
    "12f",
    "12g",
    "13",
    "14",
    "15",
    "16",
    "17",
    "18a",
    "18b",
    "18c",
    "18d",
    "18e",
    "18f",
    "19",
    "20a",
    "20b",
    "20c",
    "21",
    "22",
    "23a",
    "23b",
    "24",
    "25",
    "26",
    "27a",
    "27b",
    "27c",
]


def _kwargs():
    out = S.nomogram_outputs(True)
    return dict(
        clinical_table=S.clinical(),
        preprocessing_qc=S.preprocessing_qc(),
        multivariate_cox_table=out["multivariate_cox_table"],
        discrimination={m: out[f"{m}.discrimination"] for m in ("clinical", "integrated")},
        comparison=out["c_index_comparison"],
        bootstrap={m: out[f"{m}.bootstrap_validation"] for m in ("clinical", "integrated")},
        calibration={m: out[f"{m}.calibration_summary"] for m in ("clinical", "integrated")},
        signature_metrics=S.signature_metrics(),
        signature_weights=S.signature_weights(),
        risk_group_summary=out["risk_group_summary"],
        provenance=S.provenance("random"),
        data_contract=DataContract.model_validate(S.CONTRACT),
        nomogram=NomogramParams.model_validate(S.NOMOGRAM),
        signature=SignatureParams.model_validate({}),
        icc_threshold=0.75,
        preprocessing=PreprocessingSettings(),
        versions={"hcc-nomogram": "9.9"},
    )


def _records():
    return run_records(**_kwargs())


def test_numbering_is_the_published_one():
    assert [i.item for i in CHECKLIST] == PUBLISHED
    assert len({re.match(r"\d+", i).group(0) for i in PUBLISHED}) == 27


def test_answers_come_from_the_records():
    table = fill_checklist(_records(), ["cohort", "characteristics"]).set_index("item")
    clinical = S.clinical()
    train = clinical[clinical["cohort"] == "training"]
    events = int(train["os_event"].sum())  # hand count of the synthetic training cohort
    # candidate parameters: age > 55 (1) + BCLC C vs B (1) + signature (1)
    assert (
        f"training: {len(train)} patients, {events} events, 2 centre(s)"
        in table.loc["5a", "answer"]
    )
    assert f"{events} / 3 = {events / 3:.1f}" in table.loc["10", "answer"]
    assert "1 excluded (P999: mask empty)" in table.loc["11", "answer"]
    assert "C 0.700 (95% CI 0.620-0.780)" in table.loc["23a", "answer"]  # integrated, validation
    assert "BCLC C 2.01 (1.30-3.11)" in table.loc["22", "answer"]
    assert "RANDOM weights" in table.loc["26", "answer"]
    assert "0 of 48 without a complete set" in table.loc["11", "answer"]
    for item in ("17", "18a", "18b", "18c", "18d", "18e", "19", "25", "27c"):
        assert table.loc[item, "status"] == AUTHORS, item
    assert (table["status"] == RUN).sum() >= 15


def test_missing_model_variables_are_counted():
    clinical = S.clinical()
    clinical.loc[[0, 1, 70], "bclc"] = None  # two training, one validation patient
    records = run_records(**{**_kwargs(), "clinical_table": clinical})
    cohorts = records.cohorts.set_index("cohort")
    assert cohorts.loc["training", "n_missing_model"] == 2
    assert cohorts.loc["validation", "n_missing_model"] == 1


def test_validation_type_from_the_centres():
    assert validation_type(["A", "B"], ["C"]).startswith("external validation")
    assert "split-sample or temporal" in validation_type(["A", "B"], ["B"])
    assert "partly from other centre(s) (C)" in validation_type(["A"], ["A", "C"])
    clinical = S.clinical()  # both cohorts from centres A and B
    table = fill_checklist(run_records(**_kwargs()), []).set_index("item")
    assert "split-sample or temporal" in table.loc["12a", "answer"]
    clinical.loc[clinical["cohort"] == "validation", "center"] = "C"
    table = fill_checklist(run_records(**{**_kwargs(), "clinical_table": clinical}), [])
    assert "external validation" in table.set_index("item").loc["12a", "answer"]
    assert "hcc-nomogram 9.9" in table.set_index("item").loc["18f", "answer"]


@pytest.mark.parametrize("present", [["cohort"], ["discrimination", "calibration_smooth"], []])
def test_links_only_to_present_sections(present):
    table = fill_checklist(_records(), present)
    linked = {s for cell in table["report_sections"] for s in cell.split(";") if s}
    assert linked <= set(present)
    measures = table.set_index("item").loc["12e", "answer"]
    assert ("smoothed calibration" in measures) == ("calibration_smooth" in present)
    assert "decision curve" not in measures


def test_report_section_links_resolve(report_run):
    html = report_run.load("hcc_nomogram_report")
    ids = set(re.findall(r'<section id="([a-z_]+)"', html))
    assert "tripod_ai" in ids
    block = html.split('<section id="tripod_ai"', 1)[1].split("</section>", 1)[0]
    targets = set(re.findall(r'href="#([a-z_]+)"', block))
    assert targets and targets <= ids
    assert {"calculator", "discrimination", "nomogram"} <= targets
    table = report_run.load("tripod_ai_checklist")
    assert list(table["item"].astype(str)) == PUBLISHED
    markdown = report_run.load("tripod_ai_checklist_md")
    assert markdown.count("\n| ") == len(PUBLISHED) + 1  # header + one row per item
    assert "(hcc_nomogram_report.html#calculator)" in markdown
    assert isinstance(table, pd.DataFrame)
