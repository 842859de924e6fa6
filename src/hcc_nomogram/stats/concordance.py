"""Harrell's concordance index for right-censored survival data, with its standard error.

Risk direction: ``risk_score`` is HIGHER = WORSE (higher hazard, shorter survival), as in
:func:`sksurv.metrics.concordance_index_censored`. ``lifelines.utils.concordance_index`` uses the
opposite convention (higher = longer survival): pass it ``-risk_score``.

Definitions (identical to scikit-survival and to R ``survival::concordance``):

* a pair (i, j) is *comparable* when the shorter time is an event: ``time_i < time_j`` and
  ``event_i = 1``, or ``time_i == time_j`` with ``event_i = 1`` and ``event_j = 0`` (a patient
  censored at the time of a death is taken to outlive it). Pairs with tied times and two events,
  or where the earlier time is censored, are not comparable;
* a comparable pair is *concordant* when the earlier death has the higher risk, *discordant*
  when it has the lower risk, and *tied in risk* when ``|risk_i - risk_j| <= tied_tol``
  (counts 1/2);
* ``C = (n_concordant + n_tied_risk / 2) / n_comparable``.

Standard error: the **infinitesimal jackknife** (IJ), the method R ``survival::concordance``
uses (Therneau & Atkinson, *The concordance statistic*, survival package vignette). With each
patient given a case weight ``w_k``, ``C(w) = sum_ij w_i w_j S_ij / sum_ij w_i w_j M_ij`` (``S``:
pair score 1 / 0.5 / 0, ``M``: comparable indicator); the influence of patient k is
``U_k = dC/dw_k |_{w=1} = (s_k - C m_k) / n_comparable`` with ``s_k`` the summed scores and
``m_k`` the number of comparable pairs patient k is part of. ``Var(C) = sum_k U_k^2``, i.e.
``Var(D) / 4`` for Somers' ``D = 2C - 1``. ``method="jackknife"`` gives the ordinary
leave-one-out jackknife instead (asymptotically equal).

:func:`compare_c_indices` compares two risk scores on the same patients: the comparable pairs
are the same for both, the covariance of the two C statistics is ``sum_k U_k^a U_k^b`` (IJ; the
same construction as ``survival::concordance(fit1, fit2)``), so
``Var(C_a - C_b) = sum_k (U_k^a - U_k^b)^2`` and a two-sided Wald z test is reported.

Pairs are enumerated in blocks of rows: O(n^2) time and O(block * n) memory, fine for cohorts of
a few thousand patients.

References
----------
Harrell FE, Califf RM, Pryor DB, Lee KL, Rosati RA. Evaluating the yield of medical tests.
JAMA 1982;247:2543-6.
Therneau T, Atkinson E. The concordance statistic. Vignette of the R package ``survival``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy import stats

from hcc_nomogram.errors import SurvivalDataError

_BLOCK = 512


@dataclass(frozen=True)
class ConcordanceResult:
    """Harrell's C and its uncertainty. ``se`` and the CI refer to ``c_index``."""

    c_index: float
    se: float
    ci_lower: float
    ci_upper: float
    n_concordant: int
    n_discordant: int
    n_tied_risk: int
    n_comparable: int
    alpha: float = 0.05
    method: str = "ij"

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class CIndexComparison:
    """Paired difference ``delta = C_a - C_b`` of two risk scores on the same patients."""

    delta: float
    se: float
    z: float
    p_value: float

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class _Pairs:
    c_index: float
    n_concordant: int
    n_discordant: int
    n_tied_risk: int
    n_comparable: int
    influence: np.ndarray  # IJ influence U_k of each patient on C
    pair_count: np.ndarray  # m_k: comparable pairs patient k belongs to
    pair_score: np.ndarray  # s_k: summed pair scores of patient k


def check_survival_outcome(
    time, event, min_patients: int = 2, *, require_event: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Validate a right-censored outcome; return ``(time float64, event bool)``.

    The one validator of survival outcomes in the project. Raises :class:`SurvivalDataError`
    for non-1-D input, different lengths, fewer than ``min_patients``, missing or negative
    times, event codes other than 0/1, or (with ``require_event``) no event at all.
    """
    time = np.asarray(time)
    event = np.asarray(event)
    if time.ndim != 1 or event.ndim != 1:
        raise SurvivalDataError(
            f"time and event must be 1-D arrays, got shapes {time.shape} and {event.shape}."
        )
    if time.shape[0] != event.shape[0]:
        raise SurvivalDataError(
            f"time and event have different lengths ({time.shape[0]} vs {event.shape[0]}). "
            "Potential fix: pass one value per patient, in the same order."
        )
    if time.shape[0] < min_patients:
        raise SurvivalDataError(f"need at least {min_patients} patients, got {time.shape[0]}.")
    try:
        time = time.astype(np.float64)
    except (TypeError, ValueError) as exc:
        raise SurvivalDataError(f"time must be numeric ({exc}).") from exc
    if not np.all(np.isfinite(time)):
        raise SurvivalDataError(
            f"time has {int(np.sum(~np.isfinite(time)))} missing or infinite value(s). "
            "Potential fix: drop or complete those patients before computing the C-index."
        )
    if np.any(time < 0):
        raise SurvivalDataError(
            f"time has {int(np.sum(time < 0))} negative value(s) (min {time.min():g}). "
            "Potential fix: follow-up times are durations from baseline and must be >= 0."
        )
    if event.dtype != bool:
        try:
            ev = event.astype(np.float64)
        except (TypeError, ValueError) as exc:
            raise SurvivalDataError(f"event must be 0/1 or boolean ({exc}).") from exc
        bad = ~np.isin(ev, (0.0, 1.0))
        if bad.any():
            raise SurvivalDataError(
                f"event must be coded 1 = event, 0 = censored; found {np.unique(ev[bad])[:5]}."
            )
        event = ev.astype(bool)
    if require_event and not event.any():
        raise SurvivalDataError(
            "all samples are censored: no event, so no comparable pair and no C-index."
        )
    return time, event


def check_risk_score(risk, n: int, name: str = "risk_score", unit: str = "value") -> np.ndarray:
    """One finite ``unit`` per patient (shape ``(n,)``), as float64."""
    risk = np.asarray(risk, dtype=np.float64)
    if risk.ndim != 1 or risk.shape[0] != n:
        raise SurvivalDataError(
            f"{name} has shape {risk.shape}, expected ({n},): one {unit} per patient, "
            "in the same order as time and event."
        )
    if not np.all(np.isfinite(risk)):
        raise SurvivalDataError(
            f"{name} has {int(np.sum(~np.isfinite(risk)))} non-finite value(s)."
        )
    return risk


def _pairs(time: np.ndarray, event: np.ndarray, risk: np.ndarray, tied_tol: float) -> _Pairs:
    n = time.shape[0]
    pair_count = np.zeros(n)
    pair_score = np.zeros(n)
    n_conc = n_disc = n_tied = 0
    rows = np.flatnonzero(event)  # only an event can be the earlier member of a pair
    for start in range(0, rows.shape[0], _BLOCK):
        idx = rows[start : start + _BLOCK]
        t_i = time[idx, None]
        comparable = (time[None, :] > t_i) | ((time[None, :] == t_i) & ~event[None, :])
        diff = risk[idx, None] - risk[None, :]
        tied = comparable & (np.abs(diff) <= tied_tol)
        conc = comparable & ~tied & (diff > 0)
        disc = comparable & ~tied & (diff < 0)
        score = conc + 0.5 * tied
        n_conc += int(conc.sum())
        n_disc += int(disc.sum())
        n_tied += int(tied.sum())
        pair_count[idx] += comparable.sum(axis=1)
        pair_count += comparable.sum(axis=0)
        pair_score[idx] += score.sum(axis=1)
        pair_score += score.sum(axis=0)
    n_comp = n_conc + n_disc + n_tied
    if n_comp == 0:
        raise SurvivalDataError(
            "no comparable pair: every event time is tied with or later than all other times. "
            "Potential fix: the C-index needs at least one death followed by a longer follow-up."
        )
    c = (n_conc + 0.5 * n_tied) / n_comp
    influence = (pair_score - c * pair_count) / n_comp
    return _Pairs(c, n_conc, n_disc, n_tied, n_comp, influence, pair_count, pair_score)


def _jackknife_values(p: _Pairs) -> np.ndarray:
    """Leave-one-out C: each pair involving patient k (exactly once, as s_k and m_k count it)."""
    num = (p.n_concordant + 0.5 * p.n_tied_risk) - p.pair_score
    den = p.n_comparable - p.pair_count
    with np.errstate(divide="ignore", invalid="ignore"):
        loo = np.where(den > 0, num / np.where(den > 0, den, 1), np.nan)
    if np.isnan(loo).any():
        raise SurvivalDataError(
            "jackknife undefined: removing one patient leaves no comparable pair."
        )
    return loo


def _variance(p: _Pairs, method: str, other: _Pairs | None = None) -> float:
    """Var(C) of ``p``, or with ``other`` Var(C_p - C_other) on the same patients."""
    if method == "ij":
        u = p.influence if other is None else p.influence - other.influence
        return float(np.sum(u**2))
    if method == "jackknife":
        loo = _jackknife_values(p)
        if other is not None:
            loo = loo - _jackknife_values(other)
        n = loo.shape[0]
        return float((n - 1) / n * np.sum((loo - loo.mean()) ** 2))
    raise ValueError(f"method must be 'ij' or 'jackknife', got {method!r}")


def harrell_c_index(  # noqa: PLR0913  R concordance(): outcome, score, then options
    time,
    event,
    risk_score,
    alpha: float = 0.05,
    *,
    method: str = "ij",
    tied_tol: float = 1e-8,
) -> ConcordanceResult:
    """Harrell's C of a risk score (HIGHER = WORSE) against a right-censored outcome.

    Parameters
    ----------
    time : array-like, shape (n,)
        Follow-up time (>= 0).
    event : array-like, shape (n,)
        1/True = event (death), 0/False = censored.
    risk_score : array-like, shape (n,)
        Predicted risk; higher = higher hazard = shorter expected survival.
    alpha : float
        The CI is ``C +/- z_{1-alpha/2} * se``, clipped to [0, 1].
    method : {"ij", "jackknife"}
        Variance: infinitesimal jackknife (as R ``survival::concordance``) or leave-one-out.
    tied_tol : float
        Risk scores closer than this are tied (as in scikit-survival).

    Returns
    -------
    ConcordanceResult
    """
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")
    time, event = check_survival_outcome(time, event)
    risk = check_risk_score(risk_score, time.shape[0])
    p = _pairs(time, event, risk, tied_tol)
    se = float(np.sqrt(_variance(p, method)))
    z = stats.norm.ppf(1 - alpha / 2)
    return ConcordanceResult(
        c_index=float(p.c_index),
        se=se,
        ci_lower=float(max(0.0, p.c_index - z * se)),
        ci_upper=float(min(1.0, p.c_index + z * se)),
        n_concordant=p.n_concordant,
        n_discordant=p.n_discordant,
        n_tied_risk=p.n_tied_risk,
        n_comparable=p.n_comparable,
        alpha=alpha,
        method=method,
    )


def compare_c_indices(  # noqa: PLR0913  R concordance(fit1, fit2) + keyword options
    time,
    event,
    risk_a,
    risk_b,
    *,
    method: str = "ij",
    tied_tol: float = 1e-8,
) -> CIndexComparison:
    """Paired comparison of two risk scores (both HIGHER = WORSE) on the same patients.

    Returns a :class:`CIndexComparison`: ``delta = C_a - C_b``, its standard error from the
    IJ (default) or leave-one-out jackknife covariance of the two C statistics, the Wald
    ``z = delta / se`` and the two-sided normal p-value. When the two scores rank every
    comparable pair identically (``se = 0`` and ``delta = 0``), ``z = 0`` and ``p = 1`` are
    returned; a non-zero ``delta`` with ``se = 0`` gives ``z = +/-inf`` and ``p = 0``.
    """
    time, event = check_survival_outcome(time, event)
    ra = check_risk_score(risk_a, time.shape[0], "risk_a")
    rb = check_risk_score(risk_b, time.shape[0], "risk_b")
    pa = _pairs(time, event, ra, tied_tol)
    pb = _pairs(time, event, rb, tied_tol)
    delta = float(pa.c_index - pb.c_index)
    var = _variance(pa, method, pb)
    se = float(np.sqrt(var))
    if se <= 1e-15:
        if abs(delta) <= 1e-15:
            return CIndexComparison(delta, 0.0, 0.0, 1.0)
        return CIndexComparison(delta, 0.0, float(np.copysign(np.inf, delta)), 0.0)
    z = delta / se
    return CIndexComparison(delta, se, float(z), float(2 * stats.norm.sf(abs(z))))
