"""Elastic-net Cox "deep learning signature": cross-validated selection and the frozen model.

:func:`cross_validate_coxnet` evaluates every configuration (top-``k`` mRMR features,
``l1_ratio``, ``alpha``) with stratified K-fold cross-validation of
:class:`sksurv.linear_model.CoxnetSurvivalAnalysis`:

* folds are stratified by the event indicator, shuffled with a fixed seed;
* features are standardised inside each fold with the fold's training mean and SD;
* for each ``(k, l1_ratio)`` the ``alpha`` path is computed once on the whole (training)
  data set and reused in every fold, as ``cv.glmnet`` does, so that fold results are
  averaged at the same ``alpha``;
* the score of a fold is Harrell's C of the held-out patients
  (:func:`hcc_nomogram.stats.concordance.harrell_c_index`).

:func:`select_configuration` picks the configuration with the best mean C ("max") or the
sparsest one whose mean C is within one standard error of the best ("one_se"); configurations
whose fit on all training data has no non-zero coefficient (an empty signature, e.g. the first
``alpha`` of every path) are never chosen.

:class:`SignatureModel` is what gets pickled: the selected features, their training mean and SD
(the scaler), the coefficients per training SD, and the min/max of the training linear
predictor used to rescale it to [0, 1]. HIGHER linear predictor / score = WORSE.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import KFold, StratifiedKFold
from sksurv.linear_model import CoxnetSurvivalAnalysis
from sksurv.util import Surv

from hcc_nomogram.errors import InputDataError, ModelFitError, SurvivalDataError
from hcc_nomogram.stats.concordance import check_survival_outcome, harrell_c_index

logger = logging.getLogger(__name__)

SELECTION_RULES = ("max", "one_se")


def feature_phase(feature: str) -> str:
    """Phase of a deep feature named ``<phase>_f<NNNN>`` (e.g. ``arterial_f0042`` -> arterial)."""
    head, sep, tail = feature.rpartition("_f")
    return head if sep and tail.isdigit() else ""


def _standardise(train: np.ndarray, *others: np.ndarray):
    mean = train.mean(axis=0)
    sd = train.std(axis=0)
    sd = np.where(sd > 0, sd, 1.0)
    return mean, sd, [(x - mean) / sd for x in (train, *others)]


def _fit_path(  # noqa: PLR0913  CoxnetSurvivalAnalysis's own path settings
    x, y, l1_ratio, alphas=None, *, n_alphas=50, alpha_min_ratio=0.01
):
    model = CoxnetSurvivalAnalysis(
        l1_ratio=l1_ratio,
        alphas=alphas,
        n_alphas=n_alphas,
        alpha_min_ratio=alpha_min_ratio,
        max_iter=100_000,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(x, y)
    return model


def make_folds(event, n_folds: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Stratified-by-event K folds (seeded); needs ``n_folds`` events and ``n_folds`` censored.
    Falls back to plain shuffled K folds when fewer than ``n_folds`` patients are censored."""
    event = np.asarray(event).astype(bool)
    n_events, n_censored = int(event.sum()), int((~event).sum())
    if n_events < n_folds:
        raise SurvivalDataError(
            f"too few events for {n_folds}-fold cross-validation: {n_events} event(s) in the "
            f"training cohort, at least {n_folds} are needed (one per fold). Potential fix: "
            "lower signature.cv.n_folds or use a larger training cohort."
        )
    idx = np.arange(event.shape[0])
    if n_censored >= n_folds:
        splitter = StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=seed)
        return list(splitter.split(idx, event.astype(int)))
    logger.warning("only %d censored patients: folds are not stratified by event", n_censored)
    return list(KFold(n_splits=n_folds, shuffle=True, random_state=seed).split(idx))


def cross_validate_coxnet(  # noqa: PLR0913  keyword-only grid, as glmnet cv.glmnet
    features: pd.DataFrame,
    time,
    event,
    ranked_features: list[str],
    *,
    k_grid: list[int],
    l1_ratio_grid: list[float],
    n_folds: int = 5,
    n_alphas: int = 50,
    alpha_min_ratio: float = 0.01,
    seed: int = 0,
) -> pd.DataFrame:
    """Cross-validated Harrell's C of every (k, l1_ratio, alpha) configuration.

    Returns one row per configuration: ``k, l1_ratio, alpha, alpha_index, mean_c, sd_c,
    se_c`` (SD / sqrt(folds)), ``n_folds_ok``, ``n_nonzero`` (non-zero coefficients when fitted
    on all of ``features``), and ``c_fold<i>`` for each fold.
    """
    time, event = check_survival_outcome(time, event)
    if len(features) != time.shape[0]:
        raise InputDataError(f"{len(features)} feature rows for {time.shape[0]} outcomes.")
    y = Surv.from_arrays(event=event, time=time)
    folds = make_folds(event, n_folds, seed)
    k_values = sorted({min(int(k), len(ranked_features)) for k in k_grid})
    rows = []
    for k in k_values:
        x_all = features.loc[:, ranked_features[:k]].to_numpy(dtype=np.float64)
        _, _, (x_std,) = _standardise(x_all)
        for l1 in l1_ratio_grid:
            try:
                full = _fit_path(x_std, y, l1, n_alphas=n_alphas, alpha_min_ratio=alpha_min_ratio)
            except ArithmeticError as exc:
                logger.warning("coxnet k=%d l1_ratio=%g failed on all data: %s", k, l1, exc)
                continue
            alphas = full.alphas_
            n_nonzero = (np.abs(full.coef_) > 0).sum(axis=0)
            c_folds = np.full((len(alphas), n_folds), np.nan)
            for f, (tr, va) in enumerate(folds):
                _, _, (x_tr, x_va) = _standardise(x_all[tr], x_all[va])
                try:
                    model = _fit_path(x_tr, y[tr], l1, alphas)
                except ArithmeticError:
                    continue
                lp = x_va @ model.coef_  # (n_va, n_alphas)
                for a in range(model.coef_.shape[1]):
                    try:
                        c_folds[a, f] = harrell_c_index(time[va], event[va], lp[:, a]).c_index
                    except SurvivalDataError:
                        pass
            for a, alpha in enumerate(alphas):
                cs = c_folds[a]
                ok = np.isfinite(cs)
                row = {
                    "k": k,
                    "l1_ratio": float(l1),
                    "alpha": float(alpha),
                    "alpha_index": a,
                    "mean_c": float(np.mean(cs[ok])) if ok.any() else np.nan,
                    "sd_c": float(np.std(cs[ok], ddof=1)) if ok.sum() > 1 else np.nan,
                    "n_folds_ok": int(ok.sum()),
                    "n_nonzero": int(n_nonzero[a]),
                }
                row["se_c"] = row["sd_c"] / np.sqrt(max(ok.sum(), 1))
                row.update({f"c_fold{i + 1}": float(c) for i, c in enumerate(cs)})
                rows.append(row)
    if not rows:
        raise ModelFitError(
            "the elastic-net Cox model failed for every (k, l1_ratio). Potential fix: check "
            "the features for extreme values or raise signature.cv.alpha_min_ratio."
        )
    return pd.DataFrame(rows)


def select_configuration(cv_results: pd.DataFrame, rule: str = "max") -> pd.Series:
    """The chosen row of :func:`cross_validate_coxnet`'s table (see the module docstring).

    Ties are broken towards fewer non-zero coefficients, then larger alpha, then smaller k.
    """
    if rule not in SELECTION_RULES:
        raise ValueError(f"rule must be one of {SELECTION_RULES}, got {rule!r}")
    ok = cv_results[(cv_results["n_nonzero"] > 0) & cv_results["mean_c"].notna()]
    if ok.empty:
        raise ModelFitError(
            "every cross-validated configuration gives an empty signature (all coefficients "
            "zero) or has no valid fold. Potential fix: lower signature.cv.alpha_min_ratio, "
            "raise n_alphas, or check that the features carry signal."
        )
    order = ["mean_c", "n_nonzero", "alpha", "k"]
    asc = [False, True, False, True]
    best = ok.sort_values(order, ascending=asc, kind="mergesort").iloc[0]
    if rule == "max":
        return best
    se = best["se_c"] if np.isfinite(best["se_c"]) else 0.0
    within = ok[ok["mean_c"] >= best["mean_c"] - se]
    return within.sort_values(
        ["n_nonzero", "alpha", "mean_c", "k"],
        ascending=[True, False, False, True],
        kind="mergesort",
    ).iloc[0]


@dataclass
class SignatureModel:
    """The frozen signature: ``lp = sum_j coef_j * (x_j - mean_j) / sd_j`` over ``features``;
    ``score = (lp - lp_min) / (lp_max - lp_min)`` with min/max of the training lp."""

    features: list[str]
    mean: np.ndarray
    sd: np.ndarray
    coefficients: np.ndarray
    lp_min: float
    lp_max: float
    config: dict = field(default_factory=dict)

    def linear_predictor(self, table: pd.DataFrame) -> np.ndarray:
        """Raw linear predictor (HIGHER = WORSE) of each row of ``table``."""
        missing = [f for f in self.features if f not in table.columns]
        if missing:
            raise InputDataError(
                f"{len(missing)} signature feature(s) are missing from the feature table.",
                column=missing[:5],
                fix="score patients with features extracted the same way as for training.",
            )
        x = table.loc[:, self.features].to_numpy(dtype=np.float64)
        if not np.all(np.isfinite(x)):
            rows = np.flatnonzero(~np.all(np.isfinite(x), axis=1))
            raise InputDataError(
                f"{len(rows)} row(s) have missing signature features.",
                patient=list(table.index[rows[:5]]),
            )
        return ((x - self.mean) / self.sd) @ self.coefficients

    def rescale(self, lp) -> np.ndarray:
        """Min-max rescaling fixed on training: 0 = lowest, 1 = highest training lp.
        Other patients may fall slightly outside [0, 1]; they are not clipped."""
        return (np.asarray(lp, dtype=np.float64) - self.lp_min) / (self.lp_max - self.lp_min)

    def weights(self) -> pd.DataFrame:
        """Supplementary-Table-S2-like table: feature, phase, weight (per training SD),
        training mean and SD, ordered by |weight|."""
        table = pd.DataFrame(
            {
                "feature": self.features,
                "phase": [feature_phase(f) for f in self.features],
                "weight": self.coefficients,
                "train_mean": self.mean,
                "train_sd": self.sd,
            }
        )
        order = np.argsort(-np.abs(table["weight"].to_numpy()), kind="stable")
        return table.iloc[order].reset_index(drop=True)


def fit_signature_model(  # noqa: PLR0913  keyword-only: the CV-chosen k, l1_ratio, alpha
    features: pd.DataFrame,
    time,
    event,
    ranked_features: list[str],
    *,
    k: int,
    l1_ratio: float,
    alpha_index: int,
    n_alphas: int = 50,
    alpha_min_ratio: float = 0.01,
    config: dict | None = None,
) -> SignatureModel:
    """Refit the chosen configuration on all training data (same alpha path as in the CV)
    and freeze it. Raises :class:`ModelFitError` for an empty signature."""
    time, event = check_survival_outcome(time, event)
    y = Surv.from_arrays(event=event, time=time)
    candidates = list(ranked_features[:k])
    x = features.loc[:, candidates].to_numpy(dtype=np.float64)
    mean, sd, (x_std,) = _standardise(x)
    model = _fit_path(x_std, y, l1_ratio, n_alphas=n_alphas, alpha_min_ratio=alpha_min_ratio)
    coef = model.coef_[:, alpha_index]
    keep = np.abs(coef) > 0
    if not keep.any():
        raise ModelFitError(
            f"empty signature: every coefficient is zero at alpha={model.alphas_[alpha_index]:g} "
            f"(k={k}, l1_ratio={l1_ratio}). Potential fix: choose a smaller alpha."
        )
    lp_train = x_std[:, keep] @ coef[keep]
    if not np.all(np.isfinite(lp_train)) or np.ptp(lp_train) <= 0:
        raise ModelFitError("the signature's training linear predictor is constant or non-finite.")
    cfg = dict(config or {})
    cfg.update({"k": k, "l1_ratio": l1_ratio, "alpha": float(model.alphas_[alpha_index])})
    return SignatureModel(
        features=[c for c, kept in zip(candidates, keep) if kept],
        mean=mean[keep],
        sd=sd[keep],
        coefficients=coef[keep],
        lp_min=float(lp_train.min()),
        lp_max=float(lp_train.max()),
        config=cfg,
    )
