"""Patient-level simulation: clinical variables, image-only latent traits, outcomes, transforms.

Frequencies follow Table 1 of Zhang et al. (2020); the clinical variables are generated
jointly so that they are consistent with each other (BCLC C exactly when there is vascular
invasion or ECOG 1; Child-Pugh B mostly with cirrhosis; bilobar disease only with several
nodules). Overall survival follows a proportional-hazards model with a Weibull baseline whose
linear predictor mixes clinical factors with two traits that *only the images* show (necrotic
fraction and enhancement heterogeneity of the index tumour). Everything is vectorised and
drawn from one generator seeded by ``config.seed``: same config, same table.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from hcc_nomogram.demo.config import DemoCohortConfig, SurvivalConfig

#: Columns of ``clinical.csv`` (the analysis input), in order.
CLINICAL_COLUMNS = [
    "patient_id", "center", "cohort",
    "sex", "age_years", "age_gt_55", "etiology", "cirrhosis",
    "nodule_count", "nodules_gt_3", "bilobar", "tumor_size_cm", "tumor_size_gt_5cm",
    "portal_vein_invasion", "hepatic_vein_invasion", "ecog", "child_pugh", "bclc",
    "ast_u_l", "ast_gt_40", "alt_u_l", "alt_gt_50", "afp_ng_ml", "afp_gt_400",
    "tace_sessions",
    "os_months", "os_event", "pfs_months", "pfs_event",
]  # fmt: skip

#: Columns of the ground-truth table (never read by a modelling pipeline), in order.
GROUND_TRUTH_COLUMNS = [
    "patient_id", "center", "cohort",
    "true_lp", "true_lp_clinical", "true_lp_image",
    "necrotic_fraction", "heterogeneity",
    "true_os_months", "true_pfs_months", "censoring_months",
    "transform_angle_x_rad", "transform_angle_y_rad", "transform_angle_z_rad",
    "transform_translation_x_mm", "transform_translation_y_mm", "transform_translation_z_mm",
    "transform_center_x_mm", "transform_center_y_mm", "transform_center_z_mm",
    "liver_center_x_mm", "liver_center_y_mm", "liver_center_z_mm",
    "liver_semi_x_mm",
    "tumor_center_x_mm", "tumor_center_y_mm", "tumor_center_z_mm",
    "image_seed",
]  # fmt: skip

PORTAL_VEIN_LEVELS = ("none", "Vp1-2", "Vp3-4")

# Image-only latent traits: necrotic fraction = 0 with probability P_NO_NECROSIS, otherwise
# uniform on [NECROSIS_LOW, NECROSIS_HIGH]; heterogeneity ~ uniform(0, 1).
P_NO_NECROSIS = 0.35
NECROSIS_LOW, NECROSIS_HIGH = 0.10, 0.60


def necrosis_moments() -> tuple[float, float]:
    """Mean and SD of the necrotic-fraction distribution (closed form)."""
    p = 1.0 - P_NO_NECROSIS
    lo, hi = NECROSIS_LOW, NECROSIS_HIGH
    mean = p * (lo + hi) / 2
    second = p * (hi**3 - lo**3) / (3 * (hi - lo))
    return mean, float(np.sqrt(second - mean**2))


def simulate_patients(config: DemoCohortConfig) -> pd.DataFrame:
    """One row per patient with every clinical, outcome and ground-truth column.

    Split it with :func:`hcc_nomogram.demo.cohort.clinical_table` and
    :func:`~hcc_nomogram.demo.cohort.ground_truth_table`.
    """
    rng = np.random.default_rng([config.seed, 0])
    n = config.n_patients
    center = np.concatenate([[c.name] * c.n_patients for c in config.centers])
    cohort = np.concatenate([[c.cohort] * c.n_patients for c in config.centers])
    width = max(4, len(str(n)))
    ids = [f"{config.id_prefix}{i + 1:0{width}d}" for i in range(n)]

    def bern(p):
        return (rng.random(n) < p).astype(int)

    male = bern(0.87)
    age = np.clip(np.round(rng.normal(53.5, 11.0, n)), 20, 85).astype(int)
    etiology = rng.choice(np.array(["HBV", "HCV", "other"]), size=n, p=[0.80, 0.03, 0.17])
    cirrhosis = bern(np.where(etiology == "other", 0.45, 0.63))

    # Tumour burden: nodule count 1 (35%), 2-3 (25%), 4-6 (40%); bilobar needs >1 nodule.
    burden = rng.choice(3, size=n, p=[0.35, 0.25, 0.40])
    nodules = np.where(burden == 0, 1, np.where(burden == 1, rng.integers(2, 4, n),
                                                rng.integers(4, 7, n)))  # fmt: skip
    bilobar = bern(np.select([nodules == 1, nodules <= 3], [0.0, 0.5], 0.8))
    # Largest diameter: log-normal, median 5.7 cm -> ~60% above 5 cm; kept inside the liver.
    size_cm = np.round(np.clip(np.exp(rng.normal(np.log(5.7), 0.5, n)), 1.5, 12.0), 1)

    # Vascular invasion and performance status, drawn jointly so that BCLC C ~55%.
    pvi = rng.choice(3, size=n, p=[0.55, 0.20, 0.25])
    hvi = bern(np.where(pvi > 0, 0.18, 0.035))
    ecog = bern(np.where(pvi > 0, 0.48, 0.15))
    bclc_c = ((pvi > 0) | (hvi == 1) | (ecog == 1)).astype(int)
    child_b = bern(np.where(cirrhosis == 1, 0.15, 0.025))

    # Laboratory values (log-normal, AST/ALT correlated, AFP rising with tumour size).
    z = rng.multivariate_normal([0, 0], [[1, 0.7], [0.7, 1]], size=n)
    ast = np.round(np.exp(np.log(50.4) + 0.6 * z[:, 0] + 0.1 * child_b), 1)
    alt = np.round(np.exp(np.log(39.7) + 0.6 * z[:, 1]), 1)
    afp_log = np.log(290.0) + 0.5 * (np.log(size_cm) - np.log(5.7)) + rng.normal(0, 2.4, n)
    afp = np.round(np.clip(np.exp(afp_log), 1.0, 1.2e5), 1)

    # Image-only traits of the index tumour (no clinical column states them).
    necrotic = np.where(rng.random(n) < P_NO_NECROSIS, 0.0,
                        rng.uniform(NECROSIS_LOW, NECROSIS_HIGH, n))  # fmt: skip
    heterogeneity = rng.uniform(0.0, 1.0, n)

    table = pd.DataFrame(
        {
            "patient_id": ids,
            "center": center,
            "cohort": cohort,
            "sex": np.where(male == 1, "male", "female"),
            "age_years": age,
            "age_gt_55": (age > 55).astype(int),
            "etiology": etiology,
            "cirrhosis": cirrhosis,
            "nodule_count": nodules,
            "nodules_gt_3": (nodules > 3).astype(int),
            "bilobar": bilobar,
            "tumor_size_cm": size_cm,
            "tumor_size_gt_5cm": (size_cm > 5.0).astype(int),
            "portal_vein_invasion": np.array(PORTAL_VEIN_LEVELS)[pvi],
            "hepatic_vein_invasion": hvi,
            "ecog": ecog,
            "child_pugh": np.where(child_b == 1, "B", "A"),
            "bclc": np.where(bclc_c == 1, "C", "B"),
            "ast_u_l": ast,
            "ast_gt_40": (ast > 40).astype(int),
            "alt_u_l": alt,
            "alt_gt_50": (alt > 50).astype(int),
            "afp_ng_ml": afp,
            "afp_gt_400": (afp > 400).astype(int),
            "necrotic_fraction": np.round(necrotic, 4),
            "heterogeneity": np.round(heterogeneity, 4),
        }
    )
    table = _add_survival(table, config.survival, rng)
    # TACE sessions are post-baseline: patients who live longer receive more sessions.
    sessions = 1 + rng.poisson(np.minimum(table["os_months"], 48.0) / 9.0)
    table["tace_sessions"] = np.clip(sessions, 1, 6).astype(int)
    table = _add_geometry(table, config, rng)
    table["image_seed"] = np.arange(n, dtype=np.int64)
    return table


def linear_predictor(table: pd.DataFrame, survival: SurvivalConfig) -> tuple[np.ndarray, ...]:
    """True (clinical, image) parts of the log-hazard ratio, centred on the reference levels."""
    clinical = (
        np.log(survival.hr_bclc_c) * (table["bclc"] == "C")
        + np.log(survival.hr_alt_gt_50) * table["alt_gt_50"]
        + np.log(survival.hr_tumor_size_gt_5cm) * table["tumor_size_gt_5cm"]
        + np.log(survival.hr_afp_gt_400) * table["afp_gt_400"]
        + np.log(survival.hr_child_pugh_b) * (table["child_pugh"] == "B")
    ).to_numpy(float)
    nec_mean, nec_sd = necrosis_moments()
    image = (
        np.log(survival.hr_necrosis_per_sd) * (table["necrotic_fraction"] - nec_mean) / nec_sd
        + np.log(survival.hr_heterogeneity_per_sd)
        * (table["heterogeneity"] - 0.5)
        / np.sqrt(1 / 12)
    ).to_numpy(float)
    return clinical, image


def _solve_scale(risk: np.ndarray, shape: float, median: float) -> float:
    """Baseline scale lam such that mean_i exp(-lam * risk_i * median**shape) = 1/2."""
    lo, hi = 1e-12, 1e3
    for _ in range(200):
        mid = np.sqrt(lo * hi)
        if np.mean(np.exp(-mid * risk * median**shape)) > 0.5:
            lo = mid
        else:
            hi = mid
    return float(np.sqrt(lo * hi))


def _add_survival(
    table: pd.DataFrame, survival: SurvivalConfig, rng: np.random.Generator
) -> pd.DataFrame:
    n = len(table)
    lp_clinical, lp_image = linear_predictor(table, survival)
    lp = lp_clinical + lp_image
    risk = np.exp(lp)
    k = survival.weibull_shape
    lam_os = _solve_scale(risk, k, survival.median_os_months)
    # Progression hazard: same predictors; PFS = min(progression, death). Solve its scale so
    # that the median of the minimum equals median_pfs_months.
    lam_pfs_total = _solve_scale(risk, k, survival.median_pfs_months)
    lam_prog = max(lam_pfs_total - lam_os, 1e-12)
    t_os = (-np.log(rng.random(n)) / (lam_os * risk)) ** (1 / k)
    t_prog = (-np.log(rng.random(n)) / (lam_prog * risk)) ** (1 / k)
    t_pfs = np.minimum(t_prog, t_os)
    # Censoring: end of study (uniform enrolment) and loss to follow-up (exponential).
    admin = survival.min_follow_up_months + rng.uniform(0, survival.accrual_months, n)
    rate = survival.loss_to_follow_up_per_year / 12.0
    lost = rng.exponential(1 / rate, n) if rate > 0 else np.full(n, np.inf)
    censor = np.minimum(admin, lost)
    os_months = np.maximum(np.round(np.minimum(t_os, censor), 1), 0.1)
    pfs_months = np.minimum(np.maximum(np.round(np.minimum(t_pfs, censor), 1), 0.1), os_months)
    table = table.assign(
        os_months=os_months,
        os_event=(t_os <= censor).astype(int),
        pfs_months=pfs_months,
        pfs_event=(t_pfs <= censor).astype(int),
        true_lp=np.round(lp, 6),
        true_lp_clinical=np.round(lp_clinical, 6),
        true_lp_image=np.round(lp_image, 6),
        true_os_months=np.round(t_os, 3),
        true_pfs_months=np.round(t_pfs, 3),
        censoring_months=np.round(censor, 3),
    )
    return table


def _add_geometry(
    table: pd.DataFrame, config: DemoCohortConfig, rng: np.random.Generator
) -> pd.DataFrame:
    """Liver/tumour placement (mm, LPS, arterial frame) and the true portal-phase transform."""
    n = len(table)
    a = table["tumor_size_cm"].to_numpy() * 5.0  # semi-major axis, mm
    # Liver on the patient's right (-x); semi-axes grow with the tumour.
    liver_sx = np.clip(np.maximum(58.0, a + 14.0), 58.0, 76.0)
    liver_center = np.stack(
        [
            -100.0 + liver_sx + rng.normal(0, 3, n),
            rng.normal(-8.0, 3.0, n),
            rng.normal(0.0, 4.0, n),
        ],
        axis=1,
    )
    room = np.maximum(liver_sx - a - 8.0, 0.0)
    z_room = np.clip(66.0 - 0.95 * a, 0.0, 8.0)  # keep large tumours inside the z coverage
    tumor_center = liver_center + np.stack(
        [
            rng.uniform(-0.5, 0.5, n) * room,
            rng.uniform(-0.4, 0.4, n) * room,
            rng.uniform(-1.0, 1.0, n) * z_room,
        ],
        axis=1,
    )
    mis = config.misalignment
    angles = np.deg2rad(rng.uniform(-mis.max_rotation_deg, mis.max_rotation_deg, (n, 3)))
    direction = rng.normal(size=(n, 3))
    direction /= np.linalg.norm(direction, axis=1, keepdims=True)
    magnitude = rng.uniform(mis.min_translation_mm, mis.max_translation_mm, n)
    translation = direction * magnitude[:, None]
    out = table.copy()
    for i, axis in enumerate("xyz"):
        out[f"transform_angle_{axis}_rad"] = np.round(angles[:, i], 6)
    for i, axis in enumerate("xyz"):
        out[f"transform_translation_{axis}_mm"] = np.round(translation[:, i], 4)
    for i, axis in enumerate("xyz"):
        out[f"transform_center_{axis}_mm"] = np.round(liver_center[:, i], 4)
    for i, axis in enumerate("xyz"):
        out[f"liver_center_{axis}_mm"] = np.round(liver_center[:, i], 4)
    for i, axis in enumerate("xyz"):
        out[f"tumor_center_{axis}_mm"] = np.round(tumor_center[:, i], 4)
    out["liver_semi_x_mm"] = np.round(liver_sx, 4)
    return out
