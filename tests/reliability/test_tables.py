"""Defects 5 and 7: cohort values, survival outcomes and patient IDs are checked, naming the
patients, the column and the fix.

Before: ``validaton`` for 30 patients became a third cohort (validation C-index silently on 51 of
81 patients); a negative time, an event coded 2 or "yes" went through or raised a raw
``ValueError: could not convert string to float: '12,5'``; ``HCC0002`` and ``HCC0002 `` were two
patients.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from project_helpers import run_project

from hcc_nomogram.datasets import CohortManifest
from hcc_nomogram.datasets.tables import (
    check_cohort_values,
    check_outcomes,
    check_patient_ids,
    outcome_columns,
)
from hcc_nomogram.errors import InputDataError, SurvivalDataError, require_columns


def _table(**columns) -> pd.DataFrame:
    base = {
        "patient_id": ["P1", "P2", "P3", "P4"],
        "cohort": ["training"] * 2 + ["validation"] * 2,
        "os_months": [12.5, 3.0, 40.0, 7.25],
        "os_event": [1, 0, 1, 0],
    }
    return pd.DataFrame({**base, **columns})


def test_unknown_cohort_value_lists_values_and_patients():
    table = _table(cohort=["training", "validaton", "validation", "validaton"])
    with pytest.raises(InputDataError) as info:
        check_cohort_values(
            table, "cohort", ["training", "validation"], "patient_id", source="clinical_table"
        )
    assert "'validaton' (2 patient(s))" in str(info.value)
    assert info.value.patient == "P2, P4" and info.value.column == "cohort"
    check_cohort_values(_table(), "cohort", ["training", "validation"], "patient_id", source="x")


def test_empty_cohort_value_is_refused():
    table = _table(cohort=["training", None, "validation", "validation"])
    with pytest.raises(InputDataError, match="'\\(empty\\)' \\(1 patient"):
        check_cohort_values(table, "cohort", ["training", "validation"], "patient_id", source="x")


@pytest.mark.parametrize(
    ("column", "values", "patient", "message"),
    [
        ("os_months", ["12,5", "3", "40", "7"], "P1: '12,5'", "decimal separator"),
        ("os_months", [12.0, -3.0, 40.0, 7.0], "P2: -3", "negative survival time"),
        ("os_event", [1, 2, 0, 0], "P2: 2", "event must be 1 (event) or 0"),
        ("os_event", ["1", "yes", "0", "0"], "P2: 'yes'", "non-numeric"),
    ],
)
def test_bad_outcome_names_patient_and_column(column, values, patient, message):
    with pytest.raises(SurvivalDataError) as info:
        check_outcomes(
            _table(**{column: values}), "os_months", "os_event", "patient_id", source="clinical.csv"
        )
    text = str(info.value)
    assert patient in text and f"column {column!r}" in text and message in text, text
    assert "clinical.csv" in text


def test_valid_outcomes_become_numbers_and_keep_missing_values():
    out = check_outcomes(
        _table(os_months=["12.5", "3", None, "7.25"]),
        "os_months",
        "os_event",
        "patient_id",
        source="x",
    )
    np.testing.assert_array_equal(out["os_months"], [12.5, 3.0, np.nan, 7.25])
    assert out["os_event"].tolist() == [1, 0, 1, 0]


def test_id_that_changes_under_stripping_is_an_error(tmp_path):
    table = _table(patient_id=["P1", "P2 ", "P3", " P4"])
    with pytest.raises(InputDataError) as info:
        check_patient_ids(table, "patient_id", source="clinical.csv")
    assert "'P2 '" in str(info.value) and "' P4'" in str(info.value)
    assert info.value.column == "patient_id"
    # the manifest: "HCC0002" and "HCC0002 " would otherwise be two patients
    manifest = pd.DataFrame({"patient_id": ["HCC0002", "HCC0002 "]})
    with pytest.raises(InputDataError, match="whitespace"):
        CohortManifest(manifest, tmp_path)


# ----- real Kedro sessions (nomogram on a spreadsheet, as a clinical-only user) ---------------
def _point_analysis_table(project, table: pd.DataFrame) -> None:
    path = project / "data" / "01_raw" / "analysis.csv"
    table.to_csv(path, index=False)
    catalog = project / "conf" / "local" / "catalog.yml"
    catalog.write_text(
        catalog.read_text()
        + f"""
analysis_table:
  type: pandas.CSVDataset
  filepath: {path}
  load_args: {{dtype: {{patient_id: str}}}}
"""
    )
    params = project / "conf" / "local" / "parameters.yml"
    params.write_text(
        params.read_text().replace("nomogram:\n", "nomogram:\n  signature: null\n", 1)
    )


@pytest.mark.slow
@pytest.mark.parametrize(
    ("edit", "error", "expected"),
    [
        (
            lambda t: t.assign(cohort=t["cohort"].replace("validation", "validaton")),
            InputDataError,
            "unknown cohort value(s) 'validaton'",
        ),
        (
            lambda t: t.assign(
                os_months=t["os_months"].astype(str).str.replace(".", ",", regex=False)
            ),
            SurvivalDataError,
            "decimal separator",
        ),
        # a column only Table 1 needs: checked with the others, before nomogram_cohort is written
        (lambda t: t.drop(columns=["nodule_count"]), InputDataError, "no column 'nodule_count'"),
    ],
)
def test_nomogram_run_refuses_bad_table(project, tiny_demo_cohort, edit, error, expected):
    clinical = pd.read_csv(tiny_demo_cohort / "clinical.csv", dtype={"patient_id": str})
    assert (clinical["cohort"] == "validation").any()
    _point_analysis_table(project, edit(clinical))
    with pytest.raises(error) as info:
        run_project(project, ["nomogram"])
    assert expected in str(info.value)
    assert not (project / "data" / "03_primary" / "nomogram").exists()


def test_signature_training_set_refuses_unknown_cohort_and_bad_outcome():
    """The signature's validation C-index used to drop a misspelled cohort silently."""
    from hcc_nomogram.pipelines.signature.nodes import prepare_training_set
    from hcc_nomogram.pipelines.signature.params import SignatureParams

    contract = {
        "id_column": "patient_id",
        "cohort_column": "cohort",
        "training_value": "training",
        "validation_value": "validation",
        "outcomes": {"os": {"time": "os_months", "event": "os_event"}},
        "phases": {"arterial": "arterial_ct"},
        "delineations": {"r1a": {"arterial": "arterial_mask_r1a"}},
    }
    rng = np.random.default_rng(0)
    clinical = _table()
    features = clinical[["patient_id", "cohort"]].assign(
        arterial_f0000=rng.normal(size=4), arterial_f0001=rng.normal(size=4)
    )
    params = SignatureParams.model_validate({"cv": {"n_folds": 2}})
    bad = clinical.assign(cohort=["training", "training", "validation", "validaton"])
    with pytest.raises(InputDataError, match="'validaton'") as info:
        prepare_training_set(features, bad, contract, params)
    assert info.value.patient == "P4"
    with pytest.raises(SurvivalDataError, match="P3: 2"):
        prepare_training_set(features, clinical.assign(os_event=[1, 1, 2, 0]), contract, params)


def test_require_columns_names_every_missing_column_the_table_and_the_file():
    with pytest.raises(
        InputDataError,
        match=r"clinical_table has no column 'afp' \(missing "
        r"columns \['afp', 'bclc'\].*Potential fix: map them",
    ) as info:
        require_columns(
            _table(),
            ["patient_id", "afp", "bclc", "afp"],
            name="clinical_table",
            fix="map them.",
            file="clinical.csv",
        )
    assert info.value.column == "afp, bclc" and info.value.file == "clinical.csv"
    require_columns(_table(), ["patient_id", "os_months"], name="clinical_table", fix="")


def test_outcome_columns_lookup_and_unknown_key():
    contract = {"outcomes": {"os": {"time": "os_months", "event": "os_event"}}}
    assert outcome_columns(contract, "os", "nomogram.primary_outcome") == ("os_months", "os_event")
    with pytest.raises(
        InputDataError,
        match=r"nomogram.primary_outcome='dfs' is not one of "
        r"data_contract.outcomes \(\['os'\]\)",
    ):
        outcome_columns(contract, "dfs", "nomogram.primary_outcome")
