"""Stepwise Cox model selection by AIC, like R ``MASS::stepAIC``.

Selection works on *terms* (a categorical factor's dummy columns enter or leave together).
At each step every admissible single-term drop (``backward``/``both``) and add
(``forward``/``both``) is fitted; the move with the lowest ``AIC = -2 loglik + k * df`` is taken
if it lowers the AIC of the current model, otherwise the search stops. ``direction="both"`` and
``"backward"`` start from the full model (all candidate terms, stepAIC's usual call),
``"forward"`` from the null model. A candidate whose fit fails (separation, no events in a
level) is not selectable; the trace records why.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from hcc_nomogram.errors import HccNomogramError, ModelFitError
from hcc_nomogram.stats.cox import CoxFit, fit_cox

DIRECTIONS = ("both", "forward", "backward")


@dataclass(frozen=True)
class StepwiseResult:
    selected: tuple[str, ...]  # selected terms, in candidate order
    fit: CoxFit
    aic: float
    trace: pd.DataFrame  # step, action, term, aic, accepted, note


@dataclass(frozen=True)
class _TermFitter:
    """Cox fit of a set of terms (their design columns) on one outcome."""

    time: object
    event: object
    design: pd.DataFrame
    terms: dict
    engine: str

    def __call__(self, chosen) -> CoxFit:
        cols = [c for t in chosen for c in self.terms[t]]
        return fit_cox(self.time, self.event, self.design[cols], engine=self.engine)


def stepwise_aic(  # noqa: PLR0913  mirrors MASS::stepAIC(direction, k, scope)
    time,
    event,
    design: pd.DataFrame,
    terms: dict[str, list[str]],
    *,
    direction: str = "both",
    k: float = 2.0,
    keep=(),
    max_steps: int = 100,
    engine: str = "statsmodels",
) -> StepwiseResult:
    """Stepwise AIC selection of Cox terms.

    Parameters
    ----------
    design : DataFrame
        All candidate design columns (no missing values).
    terms : dict
        ``{term: [design columns]}``; the candidate scope.
    direction : {"both", "forward", "backward"}
    k : float
        Penalty per degree of freedom (2 = AIC, log(n_events) = BIC).
    keep : iterable of str
        Terms forced into every model (stepAIC's ``scope$lower``).
    engine : Cox fitting engine, see :func:`hcc_nomogram.stats.cox.fit_cox`.
    """
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be one of {DIRECTIONS}, got {direction!r}")
    names = list(terms)
    keep = tuple(keep)
    missing = [t for t in keep if t not in terms]
    if missing:
        raise ValueError(f"keep terms {missing} are not candidates {names}")
    current = list(names) if direction in ("both", "backward") else list(keep)
    fitter = _TermFitter(time, event, design, terms, engine)
    fit = _starting_fit(fitter, current, direction)
    aic = fit.aic(k)
    rows = [(0, "start", "", aic, True, f"{len(current)} term(s)")]
    for step in range(1, max_steps + 1):
        best = _best_move(
            fitter, _moves(direction, names, current, keep), current, k, trace=(step, rows)
        )
        if best is None or best[0] >= aic - 1e-10:
            break
        aic, current, fit = best[0], best[1], best[2]
        r = rows[best[3]]
        rows[best[3]] = (*r[:4], True, r[5])
    trace = pd.DataFrame(rows, columns=["step", "action", "term", "aic", "accepted", "note"])
    return StepwiseResult(tuple(t for t in names if t in current), fit, float(aic), trace)


def _starting_fit(fitter: _TermFitter, current, direction: str) -> CoxFit:
    """The model the search starts from (full model, or ``keep`` for forward selection)."""
    try:
        return fitter(current)
    except HccNomogramError as exc:
        if direction == "forward":
            raise
        raise ModelFitError(
            f"stepwise ({direction}) must start from the full model of {list(fitter.terms)}, "
            f"which failed: {exc}"
        ) from exc


def _moves(direction: str, names: list[str], current: list[str], keep) -> list[tuple[str, str]]:
    """Admissible single-term moves from ``current``: drops (not of ``keep``) and adds."""
    moves = []
    if direction in ("both", "backward"):
        moves += [("drop", t) for t in current if t not in keep]
    if direction in ("both", "forward"):
        moves += [("add", t) for t in names if t not in current]
    return moves


def _best_move(fitter: _TermFitter, moves, current, k: float, *, trace):
    """Fit every move (appending its row to the trace ``(step, rows)``); the lowest-AIC one
    as ``(aic, chosen terms, fit, row index)``, or None when no candidate could be fitted."""
    step, rows = trace
    best = None
    for action, term in moves:
        chosen = [t for t in current if t != term] if action == "drop" else current + [term]
        chosen = [t for t in fitter.terms if t in chosen]
        try:
            cand = fitter(chosen)
        except HccNomogramError as exc:
            rows.append((step, action, term, np.nan, False, f"fit failed: {exc}"[:200]))
            continue
        cand_aic = cand.aic(k)
        rows.append((step, action, term, cand_aic, False, ""))
        if best is None or cand_aic < best[0] - 1e-10:
            best = (cand_aic, chosen, cand, len(rows) - 1)
    return best
