"""Fewer delineations than the ICC comparisons need: the ICC step says which reproducibility
filter is computed and which is not, instead of failing."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from hcc_nomogram.pipelines.deep_features import nodes

ROOT = Path(__file__).resolve().parents[2]


def _features(delineations: dict[str, list[str]]) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    truth = rng.normal(size=(8, 4))
    rows = []
    for d, patients in delineations.items():
        for i, pid in enumerate(patients):
            noise = rng.normal(scale=0.05 if d != "r2" else 2.0, size=4)
            rows.append(
                {"patient_id": pid, "delineation": d, **dict(zip("abcd", truth[i] + noise))}
            )
    return pd.DataFrame(rows)


def test_comparison_without_enough_patients_is_not_computed(caplog):
    contract = yaml.safe_load((ROOT / "conf/base/parameters.yml").read_text("utf-8"))
    contract = contract["data_contract"]
    patients = [f"P{i}" for i in range(8)]
    table = _features({"r1a": patients, "r1b": patients, "r2": patients[:2]})
    settings = {"threshold": 0.75, "comparisons": {"intra": ["r1a", "r1b"], "inter": ["r1a", "r2"]}}
    with caplog.at_level(logging.WARNING):
        icc = nodes.compute_feature_icc(table, settings, contract)
    assert (icc["intra_status"] == "computed").all()
    assert (
        icc["inter_status"].str.startswith("not computed: 2 patient(s) with both r1a and r2").all()
    )
    assert icc["inter_icc"].isna().all() and (icc["inter_n"] == 2).all()
    # only the computed filter decides (near-identical r1a/r1b reads: every feature passes)
    assert icc["reproducible"].tolist() == (icc["intra_icc"] > 0.75).tolist() == [True] * 4
    assert "computed: ['intra']; not computed: ['inter']" in caplog.text
