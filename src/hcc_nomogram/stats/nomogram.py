"""Cox nomograms: model development, the fitted-model object and the nomogram's points.

:func:`develop_model` is the whole selection procedure (univariate screening at ``p_enter``,
then stepwise AIC); the bootstrap validation repeats it in every resample.

:class:`NomogramModel` is the frozen model the ``predict`` pipeline reuses (pickled):
``predict_lp(df)`` (HIGHER = WORSE), ``predict_survival(df, times)``, ``predict_points(df)``.

Points follow R ``rms::nomogram``: each term's contribution to the linear predictor
``beta * x`` is shifted so that its smallest value (over the levels, or over the training
range of a linear continuous term) is 0; the term with the widest range of contributions gets
100 points and the others are scaled by the same factor ``points_per_lp = 100 / widest``.
Then ``lp = total_points / points_per_lp + lp_at_zero_points`` and
``S(t) = S0(t) ** exp(lp)`` with the Breslow baseline survival ``S0``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from hcc_nomogram.errors import ModelFitError
from hcc_nomogram.stats.cox import CoxFit, univariate_cox
from hcc_nomogram.stats.design import Term, encode, fit_terms, term_columns
from hcc_nomogram.stats.stepwise import StepwiseResult, stepwise_aic

logger = logging.getLogger(__name__)


@dataclass
class NomogramModel:
    """A fitted Cox nomogram (or a placeholder saying why it is not available).

    ``terms`` are the selected terms with their training encoding; ``fit`` the Cox fit on
    their design columns; ``term_ranges`` the training ``(min, max)`` of linear continuous
    terms (for the points axis); ``lp_cutoff`` the training median LP (risk groups).
    """

    name: str
    terms: tuple[Term, ...] = ()
    fit: CoxFit | None = None
    time_unit: str = "months"
    outcome: str = "os"
    term_ranges: dict = field(default_factory=dict)
    lp_cutoff: float = float("nan")
    available: bool = True
    reason: str = ""

    @classmethod
    def unavailable(cls, name: str, reason: str) -> NomogramModel:
        return cls(name=name, available=False, reason=reason)

    def _require(self) -> None:
        if not self.available or self.fit is None:
            raise ModelFitError(f"model {self.name!r} is not available: {self.reason}")

    def design(self, df: pd.DataFrame) -> pd.DataFrame:
        self._require()
        return encode(df, self.terms)[list(self.fit.covariates)]

    def predict_lp(self, df: pd.DataFrame) -> np.ndarray:
        """Linear predictor ``X @ beta`` (HIGHER = WORSE)."""
        X = self.design(df)
        bad = X.isna().any(axis=1)
        lp = X.fillna(0.0).to_numpy() @ self.fit.coef
        return np.where(bad, np.nan, lp)

    def risk_group(self, lp) -> np.ndarray:
        """The risk-group rule: "high" where the LP exceeds ``lp_cutoff`` (the training median
        LP, applied unchanged to every cohort and to new patients), else "low"."""
        return np.where(np.asarray(lp, dtype=float) > self.lp_cutoff, "high", "low")

    def predict_survival(self, df: pd.DataFrame, times) -> pd.DataFrame:
        """Predicted survival at each time: columns ``surv_<t>`` (NaN where inputs missing)."""
        lp = self.predict_lp(df)
        s = self.fit.survival(np.nan_to_num(lp), times)
        s[np.isnan(lp)] = np.nan
        return pd.DataFrame(
            s, index=df.index, columns=[f"surv_{t:g}" for t in np.atleast_1d(times)]
        )

    # ----- points -------------------------------------------------------------------------
    def _term_contributions(self) -> list[tuple[Term, list[str], np.ndarray, np.ndarray]]:
        """Per term: level labels, x values in the term's own units, LP contributions."""
        self._require()
        coef = dict(zip(self.fit.covariates, self.fit.coef))
        out = []
        for term in self.terms:
            cols = term.columns()
            if term.kind == "categorical" or term.is_binary_cut:
                labels = term.level_labels()
                contrib = np.r_[0.0, [coef[c] for c in cols]]
                values = np.arange(len(labels), dtype=float)
            else:
                lo, hi = self.term_ranges[term.name]
                values = np.unique(np.r_[np.linspace(lo, hi, 6)])
                labels = [f"{v:.3g}" for v in values]
                contrib = coef[cols[0]] * values / term.step
            out.append((term, labels, values, contrib))
        return out

    @property
    def points_per_lp(self) -> float:
        ranges = [np.ptp(c) for *_, c in self._term_contributions()]
        widest = max(ranges) if ranges else 0.0
        if not widest > 0:
            raise ModelFitError(f"model {self.name!r}: no term moves the linear predictor.")
        return 100.0 / widest

    @property
    def lp_at_zero_points(self) -> float:
        return float(sum(np.min(c) for *_, c in self._term_contributions()))

    def points_table(self) -> pd.DataFrame:
        """Nomogram axes: term, label, level (or continuous value), lp_contribution, points."""
        ppl = self.points_per_lp
        rows = []
        for term, labels, values, contrib in self._term_contributions():
            for lab, v, c in zip(labels, values, contrib):
                rows.append(
                    dict(
                        model=self.name,
                        term=term.name,
                        label=term.display,
                        level=lab,
                        value=v,
                        coef_contribution=c,
                        points=(c - np.min(contrib)) * ppl,
                    )
                )
        return pd.DataFrame(rows)

    def predict_points(self, df: pd.DataFrame) -> np.ndarray:
        """Total points of each patient (monotone in the LP: HIGHER = WORSE)."""
        return (self.predict_lp(df) - self.lp_at_zero_points) * self.points_per_lp

    def survival_scale(self, times, step: float = 10.0) -> pd.DataFrame:
        """Total points -> lp -> predicted survival at ``times`` (the nomogram's bottom axes)."""
        max_points = float(
            sum(np.ptp(c) for *_, c in self._term_contributions()) * self.points_per_lp
        )
        grid = np.arange(0.0, max_points + step, step)
        grid[-1] = min(grid[-1], max_points)
        lp = grid / self.points_per_lp + self.lp_at_zero_points
        s = self.fit.survival(lp, times)
        out = pd.DataFrame({"model": self.name, "total_points": grid, "linear_predictor": lp})
        for j, t in enumerate(np.atleast_1d(times)):
            out[f"surv_{t:g}"] = s[:, j]
        return out


@dataclass(frozen=True)
class Development:
    """Output of :func:`develop_model`."""

    model: NomogramModel
    univariate: pd.DataFrame
    candidates: tuple[str, ...]
    stepwise: StepwiseResult


def develop_model(  # noqa: PLR0913  keyword-only: screening + MASS::stepAIC settings
    train: pd.DataFrame,
    terms,
    *,
    name: str,
    time_col: str,
    event_col: str,
    p_enter: float = 0.05,
    direction: str = "both",
    k: float = 2.0,
    always_candidates=(),
    keep=(),
    outcome: str = "os",
    engine: str = "statsmodels",
) -> Development:
    """Univariate screening (term Wald P < ``p_enter``) then stepwise AIC, on ``train``.

    ``always_candidates`` enter the stepwise scope whatever their univariate P (e.g. the
    signature in the integrated model); ``keep`` are never dropped.
    """
    terms = fit_terms(train, terms)
    design = encode(train, terms)
    groups = term_columns(terms)
    time = train[time_col].to_numpy(float)
    event = train[event_col].to_numpy(float)
    uni = univariate_cox(time, event, design, groups, engine=engine)
    ok = uni[(uni["error"] == "") & (uni["term_p_value"] < p_enter)]["term"]
    candidates = tuple(t.name for t in terms if t.name in set(ok) or t.name in always_candidates)
    if not candidates:
        raise ModelFitError(
            f"model {name!r}: no candidate factor has univariate P < {p_enter} in the training "
            "cohort, so there is nothing to select. Potential fix: raise "
            "nomogram.univariate_p_threshold or add candidate factors."
        )
    scope = {t: groups[t] for t in candidates}
    step = stepwise_aic(
        time,
        event,
        design,
        scope,
        direction=direction,
        k=k,
        keep=[t for t in keep if t in scope],
        engine=engine,
    )
    selected = tuple(t for t in terms if t.name in step.selected)
    if not selected:
        raise ModelFitError(
            f"model {name!r}: stepwise AIC ({direction}) removed every candidate "
            f"({', '.join(candidates)}); the null model has the lowest AIC, so there is no "
            "nomogram to draw. Potential fix: check the outcome columns, add candidate "
            "factors, or use a larger training cohort (few events give weak evidence)."
        )
    ranges = {
        t.name: (float(np.nanmin(train[t.column])), float(np.nanmax(train[t.column])))
        for t in selected
        if t.kind == "continuous" and not t.is_binary_cut
    }
    model = NomogramModel(
        name=name, terms=selected, fit=step.fit, term_ranges=ranges, outcome=outcome
    )
    model.lp_cutoff = float(np.median(model.predict_lp(train)))
    return Development(model, uni, candidates, step)
