"""Synthetic inputs for the report tests: small, deterministic, shaped like the real datasets."""

from __future__ import annotations

import numpy as np
import pandas as pd


def clinical(n: int = 80, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    cohort = np.where(np.arange(n) < int(0.6 * n), "training", "validation")
    risk = rng.normal(size=n)
    os_t = rng.exponential(20 * np.exp(-0.7 * risk))
    cens = rng.uniform(6, 60, size=n)
    pfs_t = os_t * rng.uniform(0.3, 0.9, size=n)
    return pd.DataFrame({
        "patient_id": [f"P{i:03d}" for i in range(n)],
        "center": np.where(np.arange(n) % 2 == 0, "A", "B"),
        "cohort": cohort,
        "age": rng.integers(35, 80, size=n),
        "bclc": rng.choice(["B", "C"], size=n),
        "signature_lp": risk,
        "os_months": np.round(np.minimum(os_t, cens), 2),
        "os_event": (os_t <= cens).astype(int),
        "pfs_months": np.round(np.minimum(pfs_t, cens), 2),
        "pfs_event": (pfs_t <= cens).astype(int),
    })


def icc_table(phase: str, n: int = 60, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "feature": [f"{phase}_f{i:04d}" for i in range(n)],
        "icc_intra": rng.beta(5, 1.5, size=n),
        "icc_inter": rng.beta(5, 1.5, size=n),
    })


def crop(seed: int = 0, size: int = 224) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    yy, xx = np.indices((size, size))
    r = np.hypot(yy - size / 2, xx - size / 2)
    mask = (r < size / 5).astype(np.uint8)
    image = (rng.normal(size=(size, size)) * 0.3 + 1.5 * mask).astype(np.float32)
    return image, mask


def nomogram_tables() -> tuple[pd.DataFrame, pd.DataFrame]:
    coefs = pd.DataFrame({
        "factor": ["BCLC stage", "BCLC stage", "AFP (ng/mL)", "AFP (ng/mL)", "DL signature",
                   "DL signature", "DL signature", "DL signature"],
        "level": ["B", "C", "<400", ">=400", "0", "0.25", "0.5", "1"],
        "lp": [0.0, 0.6, 0.0, 0.4, 0.0, 0.3, 0.6, 1.2],
    })
    base = pd.DataFrame({"time": [12.0, 24.0, 36.0], "survival": [0.85, 0.65, 0.5]})
    return coefs, base


def calibration() -> pd.DataFrame:
    rows = []
    for cohort in ("training", "validation"):
        for model in ("clinical", "integrated"):
            for t in (12, 24):
                for q, p in enumerate(np.linspace(0.2, 0.85, 4)):
                    obs = p + 0.05 * np.sin(q + t)
                    rows.append((cohort, model, t, p, obs, obs - 0.1, obs + 0.1))
    return pd.DataFrame(rows, columns=["cohort", "model", "time", "predicted", "observed",
                                       "lower", "upper"])


def cindex() -> pd.DataFrame:
    return pd.DataFrame({
        "model": ["clinical", "integrated", "signature"] * 2,
        "cohort": ["training"] * 3 + ["validation"] * 3,
        "c_index": [0.65, 0.73, 0.70, 0.62, 0.71, 0.68],
        "ci_lower": [0.6, 0.68, 0.64, 0.54, 0.63, 0.6],
        "ci_upper": [0.7, 0.78, 0.76, 0.7, 0.79, 0.76],
    })


def time_auc() -> pd.DataFrame:
    rows = [(m, c, t, 0.6 + 0.05 * i + 0.01 * t / 12)
            for i, m in enumerate(("clinical", "integrated")) for c in ("training", "validation")
            for t in (6, 12, 18, 24, 36)]
    return pd.DataFrame(rows, columns=["model", "cohort", "time", "auc"])


def cv_results() -> pd.DataFrame:
    alphas = np.logspace(-3, 0, 12)
    return pd.DataFrame({"alpha": alphas, "mean_c_index": 0.7 - 0.05 * (np.log10(alphas) + 1.5) ** 2,
                         "sd_c_index": 0.03})


def weights() -> pd.DataFrame:
    return pd.DataFrame({"feature": ["arterial_f0042", "portal_f0007", "portal_f0500", "arterial_f0100"],
                         "coefficient": [0.4, -0.2, 0.15, 0.0]})


REPORTING = {"n_example_patients": 2, "image_stride": 4, "static_engine": "matplotlib",
             "static_width": 500}

CONTRACT = {
    "id_column": "patient_id", "center_column": "center", "cohort_column": "cohort",
    "training_value": "training", "validation_value": "validation",
    "phases": {"arterial": "arterial_ct", "portal": "portal_ct"}, "primary_delineation": "r1a",
    "outcomes": {"os": {"time": "os_months", "event": "os_event"},
                 "pfs": {"time": "pfs_months", "event": "pfs_event"}},
}


def crops_partitions(n: int = 4) -> dict:
    """Like a loaded PartitionedDataset: {patient_id: load callable}."""
    def loader(i):
        def load():
            out = {}
            for j, ph in enumerate(("arterial", "portal")):
                img, mask = crop(seed=10 * i + j)
                out[f"{ph}__r1a__image"], out[f"{ph}__r1a__mask"] = img, mask
            return out
        return load
    return {f"P{i:03d}": loader(i) for i in range(n)}


def preprocessing_qc(n: int = 4) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    before = rng.uniform(-0.6, -0.3, n)
    return pd.DataFrame({"patient_id": [f"P{i:03d}" for i in range(n)] + ["P999"],
                         "excluded": [False] * n + [True],
                         "exclusion_reason": [""] * n + ["mask empty"],
                         "registration_metric_before": np.r_[before, np.nan],
                         "registration_metric_after": np.r_[before - 0.1, np.nan]})


def icc_table_deep(phase: str, seed: int) -> pd.DataFrame:
    t = icc_table(phase, seed=seed).rename(columns={"icc_intra": "intra_icc", "icc_inter": "inter_icc"})
    t["reproducible"] = (t[["intra_icc", "inter_icc"]] > 0.75).all(axis=1)
    return t


def provenance(source: str = "random") -> dict:
    return {"weights_source": source, "requested": "imagenet", "is_imagenet": source == "imagenet",
            "fallback": source == "random", "fallback_reason": "offline", "seed": 1,
            "input_mode": "replicate"}
