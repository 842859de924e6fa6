"""Stepwise AIC selection against R ``MASS::stepAIC`` on coxph fits with factor terms
(``veteran``: 4-level cell type; ``pbc``: edema 0/0.5/1 and histologic stage 1-4 as factors).
Reference file: ``ref_stepaic.json`` (selected terms, final AIC, AIC after each accepted step).
``pbc`` selects different models forward and both-ways: the path matters, not only the end."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hcc_nomogram.stats.stepwise import stepwise_aic

from .r_reference import csv, dummies, reference_json

CELLTYPES = ["squamous", "smallcell", "adeno", "large"]


def _veteran():
    d = csv("data_veteran.csv")
    cells = dummies(d["celltype"], CELLTYPES, "celltype")
    X = pd.concat([d[["trt", "karno", "diagtime", "age", "prior"]], cells], axis=1)
    terms = {"trt": ["trt"], "celltype": list(cells.columns)} | {
        t: [t] for t in ("karno", "diagtime", "age", "prior")
    }
    return d["time"], d["status"], X, terms


def _pbc():
    d = csv("data_pbc.csv")
    parts = {
        "trt": d[["trt"]],
        "age": d[["age"]],
        "sex": dummies(d["sex"], ["m", "f"], "sex"),
        "ascites": d[["ascites"]],
        "hepato": d[["hepato"]],
        "spiders": d[["spiders"]],
        "edema": dummies(d["edema"], [0.0, 0.5, 1.0], "edema"),
        "log(bili)": np.log(d[["bili"]]).rename(columns={"bili": "log(bili)"}),
        "albumin": d[["albumin"]],
        "log(protime)": np.log(d[["protime"]]).rename(columns={"protime": "log(protime)"}),
        "stage": dummies(d["stage"], [1, 2, 3, 4], "stage"),
    }
    X = pd.concat(parts.values(), axis=1)
    return d["time"], d["event"], X, {k: list(v.columns) for k, v in parts.items()}


DATA = {"veteran": _veteran, "pbc": _pbc}
REFS = {r["name"]: r for r in reference_json("ref_stepaic.json")}


# pbc's 14-column candidates make statsmodels' Newton fall back to BFGS in many fits (slow):
# the statsmodels engine is checked on veteran, the numpy engine on both datasets
CASES = [(n, "numpy") for n in REFS] + [(n, "statsmodels") for n in REFS if "veteran" in n]


@pytest.mark.parametrize(("name", "engine"), CASES)
def test_stepwise_matches_mass_stepaic(name, engine):
    ref = REFS[name]
    time, event, X, terms = DATA[ref["dataset"]]()
    res = stepwise_aic(time, event, X, terms, direction=ref["direction"], engine=engine)
    assert sorted(res.selected) == sorted(ref["selected"])
    # AIC = -2 loglik + 2 df; both fits maximise the same Efron likelihood: 1e-6 absolute
    assert res.aic == pytest.approx(ref["aic"], abs=1e-6)
    assert res.fit.loglik == pytest.approx(ref["loglik"], abs=1e-6)
    accepted = res.trace[res.trace["accepted"]]
    np.testing.assert_allclose(accepted["aic"], [p["aic"] for p in ref["path"]], atol=1e-6)
    moves = [f"{'-' if a == 'drop' else '+'} {t}" for a, t in accepted[["action", "term"]].values]
    assert moves[1:] == [p["step"] for p in ref["path"]][1:]
