"""Synthetic feature + clinical tables with a known answer, for the signature tests.

``n_features`` noise features named ``<phase>_fNNNN`` (half arterial, half portal), of which
``PLANTED`` carry the hazard: ``lp = sum_j beta_j * x_j``; exponential survival times with
uniform censoring. Training / validation cohorts are assigned at random.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

PLANTED = {"arterial_f0003": 1.0, "portal_f0001": -0.8}
DATA_CONTRACT = {
    "id_column": "patient_id",
    "phases": {"arterial": "arterial_ct", "portal": "portal_ct"},
    "delineations": {"r1a": {"arterial": "arterial_mask_r1a", "portal": "portal_mask_r1a"}},
    "center_column": "center",
    "cohort_column": "cohort",
    "training_value": "training",
    "validation_value": "validation",
    "outcomes": {
        "os": {"time": "os_months", "event": "os_event"},
        "pfs": {"time": "pfs_months", "event": "pfs_event"},
    },
}


def make_tables(n=200, n_features=40, seed=0, planted=None, validation_fraction=0.35):
    """Return ``(model_input_features, clinical_table, true_lp)``."""
    planted = PLANTED if planted is None else planted
    rng = np.random.default_rng(seed)
    half = n_features // 2
    names = [f"arterial_f{i:04d}" for i in range(half)] + [
        f"portal_f{i:04d}" for i in range(n_features - half)
    ]
    x = pd.DataFrame(rng.normal(size=(n, n_features)), columns=names)
    # a little correlation between neighbours, like deep features
    x.iloc[:, 1:] = 0.8 * x.iloc[:, 1:].to_numpy() + 0.2 * x.iloc[:, :-1].to_numpy()
    lp = sum(beta * x[f].to_numpy() for f, beta in planted.items())
    t = rng.exponential(12 * np.exp(-lp))
    c = rng.uniform(6, 48, size=n)
    ids = [f"P{i:04d}" for i in range(n)]
    cohort = np.where(rng.uniform(size=n) < validation_fraction, "validation", "training")
    center = np.where(cohort == "training", "A", "B")
    features = pd.DataFrame({"patient_id": ids, "center": center, "cohort": cohort})
    features = pd.concat([features, x], axis=1)
    clinical = pd.DataFrame(
        {
            "patient_id": ids,
            "center": center,
            "cohort": cohort,
            "age_years": rng.integers(30, 80, size=n),
            "os_months": np.round(np.minimum(t, c), 2),
            "os_event": (t <= c).astype(int),
        }
    )
    clinical["pfs_months"] = clinical["os_months"]
    clinical["pfs_event"] = clinical["os_event"]
    return features, clinical, lp
