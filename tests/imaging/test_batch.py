"""Lazy per-patient callables: each patient computed once, crops not kept after writing."""

from __future__ import annotations

from hcc_nomogram.imaging import batch
from hcc_nomogram.imaging.patient import PatientSource, PreprocessingSettings
from hcc_nomogram.parameters import DataContract


def test_each_patient_is_computed_once_and_crops_are_released(monkeypatch):
    calls = []

    def fake(source, contract, settings):
        calls.append(source.patient_id)
        return {"a__r__image": source.patient_id}, {"patient_id": source.patient_id}

    monkeypatch.setattr(batch, "preprocess_patient", fake)
    sources = [PatientSource(p, load=None, file=None) for p in ("P1", "P2")]
    excluded = {"P3": {"patient_id": "P3", "excluded": True}}
    contract = DataContract(
        phases={"a": "a_ct"}, delineations={"r": {"a": "a_mask"}}, primary_delineation="r"
    )
    crops, records = batch.lazy_preprocessing(sources, excluded, contract, PreprocessingSettings())
    assert sorted(crops) == ["P1", "P2"] and sorted(records) == ["P1", "P2", "P3"]
    assert calls == []  # nothing computed until the datasets save
    assert crops["P1"]() == {"a__r__image": "P1"}
    assert records["P1"]() == {"patient_id": "P1"}
    assert records["P2"]() == {"patient_id": "P2"}  # QC first: computed ...
    assert crops["P2"]() == {"a__r__image": "P2"}  # ... and the crops handed over once
    assert calls == ["P1", "P2"]
    assert records["P3"]()["excluded"]
    jobs = [c.__self__ for c in crops.values()]
    assert all(job._crops is None for job in jobs)  # nothing large kept
