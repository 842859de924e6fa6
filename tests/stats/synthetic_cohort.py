"""Synthetic analysis table with a planted Cox model (for the nomogram statistics tests).

Columns mirror the demo ``clinical.csv`` + the signature pipeline's ``signature_score``.
True log-HRs: bclc C 0.8, alt_u_l > 50 0.6, tumor_size_cm > 5 0.5, signature_score 2.5
(per unit, i.e. 0.5 per 0.2); sex, afp and ecog have no effect.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def make_analysis_table(n_train: int = 300, n_valid: int = 150, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = n_train + n_valid
    bclc = np.where(rng.random(n) < 0.55, "C", "B")
    alt = np.round(np.exp(np.log(40) + 0.6 * rng.normal(size=n)), 1)
    size = np.round(np.exp(rng.normal(np.log(5.7), 0.5, n)), 1)
    afp = np.round(np.exp(np.log(290) + 2.4 * rng.normal(size=n)), 1)
    sex = np.where(rng.random(n) < 0.87, "male", "female")
    ecog = (rng.random(n) < 0.3).astype(int)
    age = np.clip(np.round(rng.normal(53.5, 11, n)), 20, 85)
    child = np.where(rng.random(n) < 0.1, "B", "A")
    pvi = rng.choice(["none", "Vp1-2", "Vp3-4"], size=n, p=[0.55, 0.2, 0.25])
    sig = rng.beta(2, 2, n)
    lp = 0.8 * (bclc == "C") + 0.6 * (alt > 50) + 0.5 * (size > 5) + 2.5 * (sig - 0.5)
    # Weibull(shape 1.3) baseline, median OS ~ 19 months at lp = mean
    scale = 19.0 / np.log(2) ** (1 / 1.3)
    t_true = scale * (rng.exponential(size=n) / np.exp(lp - lp.mean())) ** (1 / 1.3)
    cens = rng.uniform(14, 62, n)
    os_m = np.round(np.minimum(t_true, cens), 2)
    os_e = (t_true <= cens).astype(int)
    pfs_true = t_true * rng.uniform(0.2, 0.8, n)
    pfs_m = np.round(np.minimum(pfs_true, cens), 2)
    pfs_e = (pfs_true <= cens).astype(int)
    cohort = np.r_[["training"] * n_train, ["validation"] * n_valid]
    return pd.DataFrame(
        {
            "patient_id": [f"P{i:04d}" for i in range(n)],
            "center": np.where(cohort == "training", "A", "B"),
            "cohort": cohort,
            "sex": sex,
            "age_years": age,
            "ecog": ecog,
            "child_pugh": child,
            "bclc": bclc,
            "portal_vein_invasion": pvi,
            "alt_u_l": alt,
            "tumor_size_cm": size,
            "afp_ng_ml": afp,
            "os_months": os_m,
            "os_event": os_e,
            "pfs_months": pfs_m,
            "pfs_event": pfs_e,
            "signature_lp": 3 * sig - 1.5,
            "signature_score": sig,
        }
    )
