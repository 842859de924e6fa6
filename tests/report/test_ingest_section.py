"""The report's ingest section: shown only for the ingest run that wrote this run's manifest."""

import pandas as pd

from hcc_nomogram.report.sections import ingest_section

PHASES = ("arterial", "portal")


def _qc():
    return pd.DataFrame(
        {
            "patient_id": ["P1", "P2", "P3"],
            "included": [True, True, False],
            "arterial_series_number": [3, 3, ""],
            "arterial_series_description": ["ART 1.0", "late art", ""],
            "arterial_slices": [29, 31, ""],
            "portal_series_number": [4, 5, ""],
            "portal_series_description": ["PV 1.0", "portal", ""],
            "portal_slices": [29, 31, ""],
            "masks_found": ["arterial r1a: SEG Tumour", "portal r1a: RTSTRUCT Tumour", ""],
            "arterial_r1a_volume_ml": [12.34, 8.0, None],
            "problems": ["", "", "no portal-venous series: 2 candidates (PV 1.0, PV 2.0)"],
            "fix": ["", "", "add the patient to ingest.overrides"],
            "notes": ["", "portal r1a carried from arterial", ""],
        }
    )


def _render(sec):
    d = sec.to_dict()
    return " ".join(str(v) for v in d.values())


def test_no_ingest_run_says_so():
    figs, sec = ingest_section(None, pd.DataFrame({"patient_id": ["P1"]}), phases=PHASES)
    assert figs == {}
    assert "No `ingest` run recorded" in _render(sec)


def test_matching_ingest_run_lists_series_masks_and_exclusions():
    _, sec = ingest_section(_qc(), pd.DataFrame({"patient_id": ["P1", "P2"]}), phases=PHASES)
    text = _render(sec)
    assert "3 patients found in the export: 2 included, 1 excluded" in text
    assert "late art" in text and "RTSTRUCT Tumour" in text and "12.3" in text
    assert "add the patient to ingest.overrides" in text  # the excluded patient's fix


def test_ingest_qc_of_other_patients_is_not_shown():
    _, sec = ingest_section(_qc(), pd.DataFrame({"patient_id": ["P1", "HCC0007"]}), phases=PHASES)
    text = _render(sec)
    assert "describes other patients" in text and "1 of 2" in text
    assert "late art" not in text


def test_excluded_patient_in_the_run_means_another_manifest():
    _, sec = ingest_section(_qc(), pd.DataFrame({"patient_id": ["P3"]}), phases=PHASES)
    assert "describes other patients" in _render(sec)
