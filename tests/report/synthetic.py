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
    return pd.DataFrame(
        {
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
        }
    )


def icc_table(phase: str, n: int = 60, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "feature": [f"{phase}_f{i:04d}" for i in range(n)],
            "icc_intra": rng.beta(5, 1.5, size=n),
            "icc_inter": rng.beta(5, 1.5, size=n),
        }
    )


def crop(seed: int = 0, size: int = 224) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    yy, xx = np.indices((size, size))
    r = np.hypot(yy - size / 2, xx - size / 2)
    mask = (r < size / 5).astype(np.uint8)
    image = (rng.normal(size=(size, size)) * 0.3 + 1.5 * mask).astype(np.float32)
    return image, mask


def nomogram_tables(n_grid: int = 201) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``factor_points`` and ``survival_by_total`` of a hand-made Cox nomogram (rms convention).

    Level contributions ``lp`` (reference 0); the widest factor (DL signature, lp range 1.2)
    spans 0-100 points, so ``points = 100 * lp / 1.2`` and a total of ``tp`` points means
    ``lp = tp * 1.2 / 100``; S(t | lp) = S0(t) ** exp(lp) with S0 = 0.85 / 0.65 / 0.5.
    """
    lp = np.array([0.0, 0.6, 0.0, 0.4, 0.0, 0.3, 0.6, 1.2])
    points = pd.DataFrame(
        {
            "factor": [
                "BCLC stage",
                "BCLC stage",
                "AFP (ng/mL)",
                "AFP (ng/mL)",
                "DL signature",
                "DL signature",
                "DL signature",
                "DL signature",
            ],
            "level": ["B", "C", "<400", ">=400", "0", "0.25", "0.5", "1"],
            "points": 100.0 * lp / 1.2,
        }
    )
    grid = np.linspace(0.0, 50.0 + 100 * 0.4 / 1.2 + 100.0, n_grid)
    survival = pd.concat(
        [
            pd.DataFrame(
                {"total_points": grid, "time": t, "survival": s0 ** np.exp(grid * 1.2 / 100)}
            )
            for t, s0 in ((12.0, 0.85), (24.0, 0.65), (36.0, 0.5))
        ],
        ignore_index=True,
    )
    return points, survival


def calibration() -> pd.DataFrame:
    rows = []
    for cohort in ("training", "validation"):
        for model in ("clinical", "integrated"):
            for t in (12, 24):
                for q, p in enumerate(np.linspace(0.2, 0.85, 4)):
                    obs = p + 0.05 * np.sin(q + t)
                    rows.append((cohort, model, t, p, obs, obs - 0.1, obs + 0.1))
    return pd.DataFrame(
        rows, columns=["cohort", "model", "time", "predicted", "observed", "lower", "upper"]
    )


def cindex() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "model": ["clinical", "integrated", "signature"] * 2,
            "cohort": ["training"] * 3 + ["validation"] * 3,
            "c_index": [0.65, 0.73, 0.70, 0.62, 0.71, 0.68],
            "ci_lower": [0.6, 0.68, 0.64, 0.54, 0.63, 0.6],
            "ci_upper": [0.7, 0.78, 0.76, 0.7, 0.79, 0.76],
        }
    )


def time_auc() -> pd.DataFrame:
    rows = [
        (m, c, t, 0.6 + 0.05 * i + 0.01 * t / 12)
        for i, m in enumerate(("clinical", "integrated"))
        for c in ("training", "validation")
        for t in (6, 12, 18, 24, 36)
    ]
    return pd.DataFrame(rows, columns=["model", "cohort", "time", "auc"])


def cv_results() -> pd.DataFrame:
    alphas = np.logspace(-3, 0, 12)
    return pd.DataFrame(
        {
            "alpha": alphas,
            "mean_c_index": 0.7 - 0.05 * (np.log10(alphas) + 1.5) ** 2,
            "sd_c_index": 0.03,
        }
    )


def weights() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "feature": ["arterial_f0042", "portal_f0007", "portal_f0500", "arterial_f0100"],
            "coefficient": [0.4, -0.2, 0.15, 0.0],
        }
    )


REPORTING = {
    "n_example_patients": 2,
    "image_stride": 4,
    "static_width": 500,
}

CONTRACT = {
    "id_column": "patient_id",
    "center_column": "center",
    "cohort_column": "cohort",
    "training_value": "training",
    "validation_value": "validation",
    "phases": {"arterial": "arterial_ct", "portal": "portal_ct"},
    "primary_delineation": "r1a",
    "delineations": {"r1a": {"arterial": "arterial_mask_r1a", "portal": "portal_mask_r1a"}},
    "outcomes": {
        "os": {"time": "os_months", "event": "os_event"},
        "pfs": {"time": "pfs_months", "event": "pfs_event"},
    },
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
    return pd.DataFrame(
        {
            "patient_id": [f"P{i:03d}" for i in range(n)] + ["P999"],
            "excluded": [False] * n + [True],
            "exclusion_reason": [""] * n + ["mask empty"],
            "registration_metric_before": np.r_[before, np.nan],
            "registration_metric_after": np.r_[before - 0.1, np.nan],
        }
    )


def icc_table_deep(phase: str, seed: int) -> pd.DataFrame:
    t = icc_table(phase, seed=seed).rename(
        columns={"icc_intra": "intra_icc", "icc_inter": "inter_icc"}
    )
    t["reproducible"] = (t[["intra_icc", "inter_icc"]] > 0.75).all(axis=1)
    return t


def provenance(source: str = "random") -> dict:
    return {
        "weights_source": source,
        "requested": "imagenet",
        "is_imagenet": source == "imagenet",
        "fallback": source == "random",
        "fallback_reason": "offline",
        "seed": 1,
        "input_mode": "replicate",
    }


# ----- shaped like the signature and nomogram pipelines' real outputs (docs/signature.md,
# docs/nomogram.md) -----------------------------------------------------------------------
def signature_weights() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "feature": ["arterial_f0042", "portal_f0007", "portal_f0500"],
            "phase": ["arterial", "portal", "portal"],
            "weight": [0.4, -0.2, 0.15],
            "train_mean": [0.1, 0.2, 0.3],
            "train_sd": [0.5, 0.25, 2.0],
        }
    )


def signature_cv_results() -> pd.DataFrame:
    rows = []
    for k in (5, 10):
        for l1 in (0.5, 1.0):
            for i, a in enumerate(np.logspace(0, -2, 8)):
                rows.append(
                    {
                        "k": k,
                        "l1_ratio": l1,
                        "alpha": a,
                        "alpha_index": i,
                        "mean_c": 0.6 + 0.02 * i - 0.002 * i * i + 0.01 * (k == 10),
                        "sd_c": 0.05,
                        "se_c": 0.02,
                        "n_folds_ok": 5,
                        "n_nonzero": i,
                        "selected": False,
                        "selection_rule": "max",
                    }
                )
    cv = pd.DataFrame(rows)
    cv.loc[cv[cv["k"] == 10]["mean_c"].idxmax(), "selected"] = True
    return cv


def signature_metrics() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "cohort": ["training", "validation"],
            "outcome": "os",
            "n_patients": [48, 32],
            "n_events": [30, 18],
            "c_index": [0.72, 0.69],
            "se": [0.03, 0.04],
            "ci_lower": [0.66, 0.61],
            "ci_upper": [0.78, 0.77],
        }
    )


def nomogram_points(model: str) -> pd.DataFrame:
    rows = [
        ("bclc", "BCLC C", "B", 0, 0.0, 0.0),
        ("bclc", "BCLC C", "C", 1, 0.7, 70.0),
        ("afp", "AFP > 400 ng/mL", "<=400", 0, 0.0, 0.0),
        ("afp", "AFP > 400 ng/mL", ">400", 1, 0.4, 40.0),
    ]
    if model == "integrated":
        rows += [
            ("signature", "DL signature (per 0.2)", f"{v:g}", v, v, 100 * v)
            for v in (0, 0.2, 0.4, 0.6, 0.8, 1.0)
        ]
    return pd.DataFrame(
        rows, columns=["term", "label", "level", "value", "coef_contribution", "points"]
    ).assign(model=model)


def nomogram_survival_scale(model: str) -> pd.DataFrame:
    top = 210.0 if model == "integrated" else 110.0
    tp = np.r_[np.arange(0, top, 10.0), top]
    lp = tp / 100.0
    return pd.DataFrame(
        {
            "model": model,
            "total_points": tp,
            "linear_predictor": lp,
            **{f"surv_{t}": s0 ** np.exp(lp) for t, s0 in ((12, 0.9), (24, 0.75), (36, 0.6))},
        }
    )


def not_available(model: str = "integrated") -> pd.DataFrame:
    """The one-row table the nomogram pipeline writes for an unavailable model."""
    return pd.DataFrame(
        [
            {
                "model": model,
                "available": False,
                "note": "no signature column configured (nomogram.signature is null): "
                "clinical-only run",
            }
        ]
    )


def discrimination(model: str) -> pd.DataFrame:
    d = 0.05 if model == "integrated" else 0.0
    return pd.DataFrame(
        {
            "model": model,
            "cohort": ["training", "validation"],
            "n": [48, 32],
            "n_events": [30, 18],
            "c_index": [0.68 + d, 0.65 + d],
            "c_se": 0.03,
            "c_ci_lower": [0.62 + d, 0.57 + d],
            "c_ci_upper": [0.74 + d, 0.73 + d],
            "auc_12": [0.7 + d, 0.66 + d],
            "auc_24": [0.72 + d, np.nan],
            "auc_36": [0.71 + d, 0.69 + d],
            "ibs": [0.15, 0.18],
            "ibs_from": 2.0,
            "ibs_to": 36.0,
            "available": True,
        }
    )


def c_index_comparison(integrated: bool = True) -> pd.DataFrame:
    if not integrated:
        return pd.DataFrame(
            {
                "cohort": ["training", "validation"],
                "c_clinical": [0.68, 0.65],
                "c_integrated": np.nan,
                "delta": np.nan,
                "se": np.nan,
                "z": np.nan,
                "p_value": np.nan,
                "note": "integrated model not available",
            }
        )
    return pd.DataFrame(
        {
            "cohort": ["training", "validation"],
            "n": [48, 32],
            "c_clinical": [0.68, 0.65],
            "c_clinical_ci": ["0.62-0.74", "0.57-0.73"],
            "c_integrated": [0.73, 0.70],
            "c_integrated_ci": ["0.67-0.79", "0.62-0.78"],
            "delta": [0.05, 0.05],
            "se": [0.02, 0.03],
            "z": [2.5, 1.7],
            "p_value": [0.012, 0.09],
            "note": "paired IJ test",
        }
    )


def nomogram_calibration(model: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    rows, summary = [], []
    for cohort in ("training", "validation"):
        for h in (12.0, 24.0):
            for g, p in enumerate((0.3, 0.55, 0.8), start=1):
                obs = np.nan if (cohort, g) == ("validation", 1) else p + 0.04 * (-1) ** g
                rows.append(
                    {
                        "model": model,
                        "cohort": cohort,
                        "horizon": h,
                        "group": g,
                        "n": 10,
                        "n_events": 5,
                        "mean_predicted": p,
                        "observed": obs,
                        "observed_ci_lower": obs - 0.1,
                        "observed_ci_upper": obs + 0.1,
                        "estimable": not np.isnan(obs),
                    }
                )
            summary.append(
                {
                    "model": model,
                    "cohort": cohort,
                    "horizon": h,
                    "rmse": 0.04,
                    "n_groups_estimable": 3,
                    "available": True,
                }
            )
    return pd.DataFrame(rows), pd.DataFrame(summary)


def nomogram_smooth_calibration(model: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``calibration_metrics`` and ``calibration_curve`` of one model (2 cohorts x 2 horizons)."""
    metrics, curves = [], []
    grid = np.linspace(0.1, 0.8, 20)
    for cohort in ("training", "validation"):
        for h in (12.0, 24.0):
            metrics.append(
                {
                    "model": model,
                    "cohort": cohort,
                    "horizon": h,
                    "n": 40,
                    "n_events_by_horizon": 12,
                    "slope": 0.87,
                    "slope_se": 0.2,
                    "slope_ci_lower": 0.48,
                    "slope_ci_upper": 1.26,
                    "oe_ratio": 1.08,
                    "oe_ci_lower": 0.81,
                    "oe_ci_upper": 1.44,
                    "citl_log_oe": 0.077,
                    "ici": 0.043,
                    "e50": 0.031,
                    "e90": 0.094,
                    "emax": 0.12,
                    "smooth_model": "rcs",
                    "note": "",
                }
            )
            obs = grid + 0.05 * np.sin(6 * grid)
            curves.append(
                pd.DataFrame(
                    {
                        "model": model,
                        "cohort": cohort,
                        "horizon": h,
                        "predicted_risk": grid,
                        "observed_risk": obs,
                        "ci_lower": obs - 0.08,
                        "ci_upper": obs + 0.08,
                    }
                )
            )
    return pd.DataFrame(metrics).assign(available=True), pd.concat(curves, ignore_index=True)


def risk_groups(model: str = "integrated") -> tuple[pd.DataFrame, pd.DataFrame]:
    curves = []
    for cohort in ("training", "validation"):
        for grp, rate in (("low", 0.03), ("high", 0.08)):
            t = np.array([3.0, 8.0, 15.0, 22.0, 30.0, 41.0])
            n = np.arange(12, 6, -1)
            curves.append(
                pd.DataFrame(
                    {
                        "model": model,
                        "cohort": cohort,
                        "risk_group": grp,
                        "time": t,
                        "n_at_risk": n,
                        "n_events": 1,
                        "n_censored": 0,
                        "survival": np.exp(-rate * t),
                        "ci_lower": np.exp(-rate * t) - 0.1,
                        "ci_upper": np.exp(-rate * t) + 0.05,
                    }
                )
            )
    summary = pd.DataFrame(
        {
            "model": model,
            "cohort": ["training", "validation"],
            "lp_cutoff": 0.4,
            "logrank_p": [0.0004, 0.03],
            "hr_high_vs_low": [2.5, 2.0],
            "hr_ci_lower": [1.4, 1.1],
            "hr_ci_upper": [4.4, 3.9],
            "hr_p_value": [0.001, 0.04],
            "n_low": 12,
            "median_low": "NR",
            "n_high": 12,
            "median_high": "20.1 (12.0-NR)",
        }
    )
    return pd.concat(curves, ignore_index=True), summary


def table1() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "variable": ["sex", "sex", "age_years"],
            "level": ["female", "male", ""],
            "training": ["10 (20%)", "38 (80%)", "55 (47-63)"],
            "validation": ["8 (25%)", "24 (75%)", "57 (49-64)"],
            "test": ["Fisher's exact", "", "Mann-Whitney U"],
            "p_value": [0.59, np.nan, 0.0004],
        }
    )


def cohort_survival() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "outcome": ["os", "os", "pfs", "pfs"],
            "cohort": ["training", "validation"] * 2,
            "n": [48, 32, 48, 32],
            "n_events": [30, 18, 40, 25],
            "median": [16.2, 18.0, 6.1, 7.0],
            "median_text": ["16.2 (12.0-21.5)", "18.0 (11.2-NR)", "6.1 (4.0-8.0)", "7.0 (5.1-9.9)"],
            "logrank_p_between_cohorts": [0.61, 0.61, 0.42, 0.42],
        }
    )


def nomogram_outputs(integrated: bool = True) -> dict:
    """Every nomogram dataset the report reads, by catalog name."""
    out = {
        "table1_characteristics": table1(),
        "cohort_survival": cohort_survival(),
        "c_index_comparison": c_index_comparison(integrated),
    }
    km, summary = risk_groups("integrated" if integrated else "clinical")
    out["risk_group_km"], out["risk_group_summary"] = km, summary
    tables = []
    for model in ("clinical", "integrated"):
        if model == "integrated" and not integrated:
            na = not_available(model)
            for ds in (
                "nomogram_points",
                "nomogram_survival_scale",
                "calibration",
                "calibration_summary",
                "discrimination",
                "calibration_metrics",
                "calibration_curve",
                "bootstrap_validation",
            ):
                out[f"{model}.{ds}"] = na
            tables.append(na)
            continue
        out[f"{model}.nomogram_points"] = nomogram_points(model)
        out[f"{model}.nomogram_survival_scale"] = nomogram_survival_scale(model)
        out[f"{model}.calibration"], out[f"{model}.calibration_summary"] = nomogram_calibration(
            model
        )
        out[f"{model}.discrimination"] = discrimination(model)
        out[f"{model}.bootstrap_validation"] = bootstrap_validation(model)
        out[f"{model}.calibration_metrics"], out[f"{model}.calibration_curve"] = (
            nomogram_smooth_calibration(model)
        )
        tables.append(
            pd.DataFrame(
                {
                    "model": model,
                    "label": ["BCLC C", "AFP > 400 ng/mL"],
                    "hr_text": ["2.01 (1.30-3.11)", "1.49 (0.99-2.24)"],
                    "p_value": [0.002, 0.055],
                    "available": True,
                }
            )
        )
    out["multivariate_cox_table"] = pd.concat(tables, ignore_index=True)
    out["decision_curves"] = decision_curves(integrated)
    out["reclassification"] = reclassification(integrated)
    return out


def _predicted_risks(n: int = 80, seed: int = 3):
    """Outcome and predicted 12-month death risks of a weaker and a stronger model."""
    rng = np.random.default_rng(seed)
    x, z = rng.normal(size=n), rng.normal(size=n)
    t, c = rng.exponential(20 * np.exp(-(x + z))), rng.uniform(6, 48, size=n)
    cohort = np.where(np.arange(n) < int(0.6 * n), "training", "validation")
    risk = {
        "clinical": 1 - np.exp(-0.6 * np.exp(x)),
        "integrated": 1 - np.exp(-0.6 * np.exp(x + z)),
    }
    return cohort, np.minimum(t, c), (t <= c).astype(int), risk


def decision_curves(integrated: bool = True) -> pd.DataFrame:
    """Shaped like the nomogram pipeline's ``decision_curves`` (two cohorts, 12 and 24 months)."""
    from hcc_nomogram.stats.decision_curve import decision_curve

    cohort, time, event, risk = _predicted_risks()
    if not integrated:
        risk.pop("integrated")
    frames = []
    for g in ("training", "validation"):
        m = cohort == g
        for h in (12.0, 24.0):
            res = decision_curve(
                time[m], event[m], {k: v[m] for k, v in risk.items()}, h, np.arange(0, 0.96, 0.05)
            )
            frames.append(res.table.assign(cohort=g, horizon=h, available=True))
    return pd.concat(frames, ignore_index=True)


def reclassification(integrated: bool = True) -> pd.DataFrame:
    """Shaped like the nomogram pipeline's ``reclassification``."""
    from hcc_nomogram.stats.reclassification import reclassification as nri_idi

    if not integrated:
        return pd.DataFrame(
            [{"available": False, "note": "integrated model not available (no signature column)"}]
        )
    cohort, time, event, risk = _predicted_risks()
    frames = []
    for g in ("training", "validation"):
        m = cohort == g
        for h in (12.0, 24.0):
            res = nri_idi(
                time[m],
                event[m],
                risk["clinical"][m],
                risk["integrated"][m],
                h,
                categories=[0.2, 0.5],
                n_bootstrap=20,
                seed=1,
            )
            frames.append(res.to_frame().assign(cohort=g, available=True))
    return pd.concat(frames, ignore_index=True)


# ----- frozen nomogram models (calculator section) --------------------------------------------
NOMOGRAM = {
    "horizons_months": [12, 24, 36],
    "candidate_factors": [
        {"name": "age", "column": "age", "kind": "continuous", "cutoff": 55, "label": "Age > 55 y"},
        {
            "name": "bclc",
            "column": "bclc",
            "kind": "categorical",
            "reference": "B",
            "label": "BCLC C",
        },
    ],
    "signature": {"column": "signature_score", "label": "DL signature (per 0.2)"},
}


def bootstrap_validation(model: str) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "model": model,
                "c_apparent": 0.70,
                "optimism": 0.02,
                "c_corrected": 0.68,
                "n_bootstrap": 20,
                "n_failed": 0,
                "seed": 1,
                "available": True,
                "note": "",
            }
        ]
    )


def analysis_table() -> pd.DataFrame:
    """:func:`clinical` with the rescaled signature score of the signature pipeline."""
    table = clinical()
    lp = table["signature_lp"]
    return table.assign(signature_score=(lp - lp.min()) / (lp.max() - lp.min()))


def nomogram_models(integrated: bool = True) -> dict:
    """Real Cox nomograms (every factor kept) fitted on the synthetic training rows."""
    from hcc_nomogram.stats.design import Term
    from hcc_nomogram.stats.nomogram import NomogramModel, develop_model

    table = analysis_table()
    train = table[table["cohort"] == "training"]
    factors = [
        Term("age", "age", "continuous", cutoff=55, label="Age > 55 y"),
        Term("bclc", "bclc", "categorical", reference="B", label="BCLC C"),
    ]
    signature = Term(
        "signature", "signature_score", "continuous", step=0.2, label="DL signature (per 0.2)"
    )
    out = {}
    for name, terms in (("clinical", factors), ("integrated", [*factors, signature])):
        if name == "integrated" and not integrated:
            out[f"{name}.nomogram_model"] = NomogramModel.unavailable(name, "no signature column")
            continue
        out[f"{name}.nomogram_model"] = develop_model(
            train,
            terms,
            name=name,
            time_col="os_months",
            event_col="os_event",
            p_enter=1.0,
            k=0.0,
            always_candidates=[t.name for t in terms],
        ).model
    return out
