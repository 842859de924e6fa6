"""Decision curve analysis (net benefit) for a right-censored outcome at a fixed horizon.

Risk direction: a model's ``risk`` is the predicted probability of the event (death) by the
horizon ``t``, i.e. ``1 - S_hat(t)``: HIGHER = WORSE. A patient is "treated" (test positive)
at threshold probability ``p_t`` when ``risk >= p_t``.

Definitions (Vickers & Elkin 2006; survival version of Vickers, Cronin, Elkin & Gonen 2008,
as R ``stdca`` and the Python ``dcurves.dca(..., time=, time_to_outcome_col=)``):

* ``P(+) = #{risk >= p_t} / n``, the fraction treated;
* ``S_+(t)``: Kaplan-Meier survival at ``t`` of the treated patients only, so the event rate
  among them is ``1 - S_+(t)``; censoring is handled by the Kaplan-Meier estimate;
* true- and false-positive fractions ``TP = (1 - S_+(t)) P(+)``, ``FP = S_+(t) P(+)``;
* **net benefit** ``NB(p_t) = TP - FP * p_t / (1 - p_t)``: the benefit of treating the
  patients who die by ``t`` minus the harm of treating those who do not, weighted by the odds
  at the threshold (the exchange rate a clinician accepts at ``p_t``);
* **treat all**: every patient is positive, ``NB = (1 - S(t)) - S(t) p_t / (1 - p_t)`` with
  ``S`` the Kaplan-Meier survival of the whole cohort; **treat none**: ``NB = 0``;
* **net interventions avoided** per patient: ``(NB_model - NB_all) / (p_t / (1 - p_t))``.

``NB`` is 0 when no patient is treated. ``S_+(t)`` is not estimable (NaN, ``estimable =
False``) when the last follow-up of the treated patients is before ``t`` (the rule of
``dcurves``); a model is useful at ``p_t`` where its curve lies above both references.

References
----------
Vickers AJ, Elkin EB. Decision curve analysis: a novel method for evaluating prediction models.
Med Decis Making 2006;26:565-74.
Vickers AJ, Cronin AM, Elkin EB, Gonen M. Extensions to decision curve analysis, a novel method
for evaluating diagnostic tests, prediction models and molecular markers. BMC Med Inform Decis
Mak 2008;8:53.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from hcc_nomogram.errors import SurvivalDataError
from hcc_nomogram.stats.concordance import check_risk_score, check_survival_outcome
from hcc_nomogram.stats.survival import event_probability_at

TREAT_ALL = "treat_all"
TREAT_NONE = "treat_none"
#: 0, 0.01, ..., 0.99
DEFAULT_THRESHOLDS = tuple(round(0.01 * i, 2) for i in range(100))
COLUMNS = [
    "strategy",
    "threshold",
    "n",
    "n_treated",
    "fraction_treated",
    "event_rate_treated",
    "true_positive",
    "false_positive",
    "net_benefit",
    "net_interventions_avoided",
    "estimable",
]


@dataclass(frozen=True)
class DecisionCurveResult:
    """Net benefit of each strategy at each threshold, horizon ``horizon``.

    ``table`` (long; one row per strategy and threshold) has the columns of :data:`COLUMNS`;
    ``strategy`` is a model name, :data:`TREAT_ALL` or :data:`TREAT_NONE`.
    """

    horizon: float
    table: pd.DataFrame
    n: int
    event_rate: float  # 1 - KM survival of the whole cohort at the horizon (NaN: not reached)

    def net_benefit(self, strategy: str) -> pd.Series:
        """Net benefit of ``strategy`` indexed by threshold."""
        sub = self.table[self.table["strategy"] == strategy]
        if sub.empty:
            raise KeyError(f"no strategy {strategy!r}; have {sorted(set(self.table['strategy']))}")
        return sub.set_index("threshold")["net_benefit"]


def check_thresholds(thresholds) -> np.ndarray:
    """Threshold probabilities as a sorted float array in [0, 1)."""
    p = np.unique(np.asarray(thresholds, dtype=float).ravel())
    if p.size == 0:
        raise SurvivalDataError("thresholds is empty: give at least one threshold probability.")
    if not np.all(np.isfinite(p)) or p.min() < 0 or p.max() >= 1:
        raise SurvivalDataError(
            f"thresholds must be probabilities in [0, 1), got {p.min():g}..{p.max():g}. "
            "Potential fix: a threshold of 1 has infinite odds; stop the grid below 1."
        )
    return p


def check_risk_probability(risk, n: int, name: str = "risk") -> np.ndarray:
    """A predicted event probability per patient (finite, in [0, 1])."""
    r = check_risk_score(risk, n, name, unit="predicted probability")
    if r.min() < 0 or r.max() > 1:
        raise SurvivalDataError(
            f"{name} must be predicted probabilities of the event in [0, 1] (higher = worse). "
            "Potential fix: pass 1 - predicted survival at the horizon, not a linear predictor."
        )
    return r


def _strategy_rows(name, positive, outcome: dict) -> list[tuple]:
    """One row per threshold; ``positive[j]`` is the boolean treated mask at threshold j;
    ``outcome``: ``time``, ``event``, ``horizon`` and ``thresholds``."""
    time, event, horizon = outcome["time"], outcome["event"], outcome["horizon"]
    thresholds = outcome["thresholds"]
    n = time.shape[0]
    rows = []
    rate_of: dict[bytes, float] = {}  # thresholds that treat the same patients share one KM
    for p_t, pos in zip(thresholds, positive, strict=True):
        n_pos = int(pos.sum())
        odds = p_t / (1 - p_t)
        if n_pos == 0:
            rate, tp, fp, nb, ok = 0.0, 0.0, 0.0, 0.0, True
        else:
            key = np.packbits(pos).tobytes()
            if key not in rate_of:
                rate_of[key] = event_probability_at(time[pos], event[pos], horizon)[0]
            rate = rate_of[key]
            ok = bool(np.isfinite(rate))
            tp = rate * n_pos / n
            fp = (1 - rate) * n_pos / n
            nb = tp - fp * odds
        rows.append((name, float(p_t), n, n_pos, n_pos / n, rate, tp, fp, nb, ok))
    return rows


def decision_curve(
    time,
    event,
    risks: Mapping[str, Sequence[float]],
    horizon: float,
    thresholds=DEFAULT_THRESHOLDS,
) -> DecisionCurveResult:
    """Net benefit of each model in ``risks`` and of treat-all / treat-none at ``horizon``.

    Parameters
    ----------
    time, event : array-like, shape (n,)
        Follow-up time (>= 0) and event indicator (1 = death, 0 = censored).
    risks : mapping name -> array-like, shape (n,)
        Predicted probability of the event by ``horizon`` (HIGHER = WORSE), e.g.
        ``1 - surv_<horizon>`` of a Cox model.
    horizon : float
        The time point ``t`` (same unit as ``time``).
    thresholds : array-like
        Threshold probabilities in [0, 1) (default :data:`DEFAULT_THRESHOLDS`).

    Returns
    -------
    DecisionCurveResult
    """
    time, event = check_survival_outcome(time, event)
    if not np.isfinite(horizon) or horizon <= 0:
        raise SurvivalDataError(f"horizon must be a positive time, got {horizon!r}.")
    p = check_thresholds(thresholds)
    reserved = {TREAT_ALL, TREAT_NONE} & set(risks)
    if reserved:
        raise SurvivalDataError(f"model names {sorted(reserved)} are reserved for the references.")
    n = time.shape[0]
    outcome = dict(time=time, event=event, horizon=horizon, thresholds=p)
    rows = []
    for name, risk in risks.items():
        r = check_risk_probability(risk, n, name=f"risk of {name!r}")
        rows += _strategy_rows(name, [r >= p_t for p_t in p], outcome)
    rows += _strategy_rows(TREAT_ALL, [np.ones(n, dtype=bool)] * p.size, outcome)
    rows += [(TREAT_NONE, float(p_t), n, 0, 0.0, 0.0, 0.0, 0.0, 0.0, True) for p_t in p]
    table = pd.DataFrame(rows, columns=[c for c in COLUMNS if c != "net_interventions_avoided"])
    nb_all = table.loc[table["strategy"] == TREAT_ALL].set_index("threshold")["net_benefit"]
    with np.errstate(divide="ignore", invalid="ignore"):
        odds = table["threshold"] / (1 - table["threshold"])
        avoided = (table["net_benefit"] - table["threshold"].map(nb_all)) / odds
    table["net_interventions_avoided"] = avoided.where(odds > 0)
    return DecisionCurveResult(
        horizon=float(horizon),
        table=table[COLUMNS],
        n=n,
        event_rate=event_probability_at(time, event, horizon)[0],
    )
