"""Intraclass correlation ICC(2,1), vectorised over many features.

ICC(2,1) (Shrout & Fleiss 1979, case 2; McGraw & Wong 1996, ICC(A,1)): two-way random
effects, absolute agreement, single rater. With ``n`` targets, ``k`` raters and the
two-way ANOVA mean squares MSR (targets/rows), MSC (raters/columns) and MSE (residual):

    ICC(2,1) = (MSR - MSE) / (MSR + (k - 1) MSE + k (MSC - MSE) / n)

The 95 % confidence interval is the F-distribution interval of McGraw & Wong (1996),
with Satterthwaite's degrees of freedom, as in ``pingouin.intraclass_corr``.

References
----------
Shrout PE, Fleiss JL. Intraclass correlations: uses in assessing rater reliability.
Psychol Bull. 1979;86(2):420-428.
McGraw KO, Wong SP. Forming inferences about some intraclass correlation coefficients.
Psychol Methods. 1996;1(1):30-46.
Koo TK, Li MY. A guideline of selecting and reporting intraclass correlation coefficients
for reliability research. J Chiropr Med. 2016;15(2):155-163.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats


@dataclass(frozen=True)
class ICCResult:
    """ICC(2,1) per feature (1-D arrays, one entry per feature)."""

    icc: np.ndarray
    ci_lower: np.ndarray
    ci_upper: np.ndarray
    f_value: np.ndarray
    df1: int
    df2: int
    p_value: np.ndarray
    n_targets: int
    n_raters: int

    def to_frame(self, index=None, prefix: str = "") -> pd.DataFrame:
        return pd.DataFrame(
            {
                f"{prefix}icc": self.icc,
                f"{prefix}ci_lower": self.ci_lower,
                f"{prefix}ci_upper": self.ci_upper,
                f"{prefix}f": self.f_value,
                f"{prefix}p_value": self.p_value,
            },
            index=index,
        )


def icc_2_1(ratings: np.ndarray, alpha: float = 0.05) -> ICCResult:
    """ICC(2,1) with its ``1 - alpha`` confidence interval.

    Parameters
    ----------
    ratings : array (n_targets, n_raters) or (n_targets, n_raters, n_features)
        Complete data (no missing values); ``n_targets >= 2``, ``n_raters >= 2``.
    alpha : float
        ``1 - alpha`` is the confidence level.

    Returns
    -------
    ICCResult with 1-D arrays of length ``n_features`` (1 for 2-D input). A feature that is
    constant over all targets and raters has ``icc = nan``.
    """
    x = np.asarray(ratings, dtype=np.float64)
    if x.ndim == 2:
        x = x[:, :, None]
    if x.ndim != 3:
        raise ValueError(f"ratings must be (targets, raters[, features]), got shape {x.shape}")
    n, k, _ = x.shape
    if n < 2 or k < 2:
        raise ValueError(f"ICC needs at least 2 targets and 2 raters, got {n} and {k}")
    if not np.isfinite(x).all():
        raise ValueError("ratings contain NaN or infinite values; ICC needs complete data")

    grand = x.mean(axis=(0, 1))
    row_means = x.mean(axis=1)  # (n, p)
    col_means = x.mean(axis=0)  # (k, p)
    ss_total = ((x - grand) ** 2).sum(axis=(0, 1))
    ss_rows = k * ((row_means - grand) ** 2).sum(axis=0)
    ss_cols = n * ((col_means - grand) ** 2).sum(axis=0)
    ss_err = np.maximum(ss_total - ss_rows - ss_cols, 0.0)
    df1, df_cols, df2 = n - 1, k - 1, (n - 1) * (k - 1)
    msr, msc, mse = ss_rows / df1, ss_cols / df_cols, ss_err / df2

    with np.errstate(divide="ignore", invalid="ignore"):
        icc = (msr - mse) / (msr + (k - 1) * mse + k * (msc - mse) / n)
        f_value = msr / mse
        p_value = stats.f.sf(f_value, df1, df2)
        # Confidence interval: McGraw & Wong (1996) case 2A, Satterthwaite df (as pingouin).
        fj = msc / mse
        a = k * icc * fj + n * (1 + (k - 1) * icc) - k * icc
        b = n * (1 + (k - 1) * icc) - k * icc
        v = df2 * a**2 / (df1 * k**2 * icc**2 * fj**2 + b**2)
        f_u = stats.f.ppf(1 - alpha / 2, df1, v)
        f_l = stats.f.ppf(1 - alpha / 2, v, df1)
        denom = k * msc + (k * n - k - n) * mse
        ci_lower = n * (msr - f_u * mse) / (f_u * denom + n * msr)
        ci_upper = n * (f_l * msr - mse) / (denom + n * f_l * msr)
    constant = ss_total <= 1e-24 * np.maximum(1.0, grand**2)
    for arr in (icc, ci_lower, ci_upper, f_value, p_value):
        arr[constant] = np.nan
    return ICCResult(
        icc=icc,
        ci_lower=ci_lower,
        ci_upper=ci_upper,
        f_value=f_value,
        df1=df1,
        df2=df2,
        p_value=p_value,
        n_targets=n,
        n_raters=k,
    )


__all__ = ["ICCResult", "icc_2_1"]
