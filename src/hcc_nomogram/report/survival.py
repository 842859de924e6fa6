"""Small survival helpers for figures: Kaplan-Meier steps, numbers at risk, log-rank P."""

from __future__ import annotations

import numpy as np
import pandas as pd

from hcc_nomogram.stats.concordance import check_survival_outcome
from hcc_nomogram.stats.survival import kaplan_meier, logrank_test


def km_steps(time, event) -> pd.DataFrame:
    """Kaplan-Meier estimate as a step table starting at (0, 1): ``time, survival, lower, upper``.

    The project's estimator (:func:`hcc_nomogram.stats.survival.kaplan_meier`, log-log CI), so
    the curves match the KM tables of the nomogram pipeline; a group without any event (which
    that function refuses) is flat at 1.
    """
    time, event = check_survival_outcome(time, event, min_patients=1, require_event=False)
    if event.any():
        km = kaplan_meier(time, event).table
        t, s, lo, hi = (km[c].to_numpy() for c in ("time", "survival", "ci_lower", "ci_upper"))
    else:
        t = np.unique(time)
        s = lo = hi = np.ones(len(t))
    return pd.DataFrame(
        {
            "time": np.r_[0.0, t],
            "survival": np.r_[1.0, s],
            "lower": np.r_[1.0, lo],
            "upper": np.r_[1.0, hi],
        }
    )


def numbers_at_risk(time, at_times) -> list[int]:
    """Patients still under observation (time >= t) at each of ``at_times``."""
    time = np.asarray(time, dtype=float)
    return [int(np.sum(time >= t)) for t in at_times]


def logrank_p(time, event, group) -> float:
    """P-value of :func:`hcc_nomogram.stats.survival.logrank_test` across the levels of
    ``group``; nan when there are fewer than 2 levels or no event (nothing to test)."""
    time, event = check_survival_outcome(time, event, min_patients=1, require_event=False)
    if len(pd.unique(np.asarray(group))) < 2 or not event.any():
        return float("nan")
    return logrank_test(time, event, group).p_value


def format_p(p: float) -> str:
    """P-value as printed in the paper: 'P < 0.001' or 'P = 0.012'."""
    if p is None or not np.isfinite(p):
        return "P = n/a"
    return "P < 0.001" if p < 0.001 else f"P = {p:.3f}"
