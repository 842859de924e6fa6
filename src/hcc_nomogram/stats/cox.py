"""Cox proportional-hazards models (Efron ties) on a numeric design matrix.

Fitting uses :class:`statsmodels.duration.hazard_regression.PHReg` with ``ties="efron"`` (the
default of R ``survival::coxph``). Every fit is checked: a 0/1 column whose two groups do not
both contain events (monotone likelihood, "a level with no events"), a constant column,
non-convergence or non-finite / exploding estimates raise :class:`ModelFitError` instead of
returning ``inf`` / ``NaN`` hazard ratios.

Linear predictor: ``lp = X @ beta`` on the *uncentred* design (the reference patient, all
columns 0, has ``lp = 0``). HIGHER lp = HIGHER hazard = WORSE prognosis. Survival of a patient:
``S(t | x) = S0(t) ** exp(lp)`` with ``S0`` the Breslow baseline survival at ``x = 0``.

References
----------
Efron B. The efficiency of Cox's likelihood function for censored data. JASA 1977;72:557-65.
Grambsch PM, Therneau TM. Proportional hazards tests and diagnostics based on weighted
residuals. Biometrika 1994;81:515-26.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.duration.hazard_regression import PHReg

from hcc_nomogram.errors import ModelFitError, SurvivalDataError
from hcc_nomogram.stats.concordance import check_survival_outcome
from hcc_nomogram.stats.survival import kaplan_meier, step_at

MAX_ABS_COEF = 15.0  # |log HR| beyond this is treated as (quasi-)separation
MAX_SE = 1e3


@dataclass(frozen=True)
class CoxFit:
    """A fitted Cox model. Coefficients are log hazard ratios (higher = worse)."""

    covariates: tuple[str, ...]
    coef: np.ndarray
    se: np.ndarray
    cov: np.ndarray
    loglik: float
    loglik_null: float
    n: int
    n_events: int
    baseline_time: np.ndarray  # distinct event times
    baseline_cumhaz: np.ndarray  # Breslow cumulative hazard at x = 0
    ties: str = "efron"

    @property
    def df(self) -> int:
        return len(self.covariates)

    def aic(self, k: float = 2.0) -> float:
        """``-2 loglik + k * df`` (``k = 2``: AIC, ``k = log(n_events)``: BIC)."""
        return -2.0 * self.loglik + k * self.df

    def summary(self, alpha: float = 0.05) -> pd.DataFrame:
        """One row per covariate: coef, se, HR and its CI, Wald z and P."""
        z = stats.norm.ppf(1 - alpha / 2)
        zstat = self.coef / self.se
        return pd.DataFrame(
            {
                "covariate": list(self.covariates),
                "coef": self.coef,
                "se": self.se,
                "hr": np.exp(self.coef),
                "hr_ci_lower": np.exp(self.coef - z * self.se),
                "hr_ci_upper": np.exp(self.coef + z * self.se),
                "z": zstat,
                "p_value": 2 * stats.norm.sf(np.abs(zstat)),
            }
        )

    def wald_test(self, covariates) -> tuple[float, int, float]:
        """Joint Wald chi-square test that the listed coefficients are 0: (chi2, df, P)."""
        idx = [self.covariates.index(c) for c in covariates]
        b = self.coef[idx]
        v = self.cov[np.ix_(idx, idx)]
        chi2 = float(b @ np.linalg.solve(v, b))
        return chi2, len(idx), float(stats.chi2.sf(chi2, len(idx)))

    def linear_predictor(self, X) -> np.ndarray:
        """``X @ beta`` (columns of ``X`` in :attr:`covariates` order or a DataFrame)."""
        if isinstance(X, pd.DataFrame):
            X = X[list(self.covariates)].to_numpy(dtype=float)
        X = np.asarray(X, dtype=float).reshape(-1, self.df) if self.df else np.zeros((len(X), 0))
        return X @ self.coef

    def baseline_survival(self, times) -> np.ndarray:
        """Breslow baseline survival ``S0(t)`` (step function, right-continuous)."""
        return step_at(self.baseline_time, np.exp(-self.baseline_cumhaz), times)

    def survival(self, lp, times) -> np.ndarray:
        """Survival ``S(t | lp)``: array (n patients, n times)."""
        lp = np.atleast_1d(np.asarray(lp, dtype=float))
        s0 = self.baseline_survival(times)
        return s0[None, :] ** np.exp(lp)[:, None]


def null_loglik(time, event) -> float:
    """Efron partial log-likelihood at beta = 0 (the model with no covariates)."""
    time, event = check_survival_outcome(time, event)
    model = PHReg(time, np.zeros((len(time), 1)), status=event.astype(float), ties="efron")
    return float(model.loglike(np.zeros(1)))


def breslow_cumhaz(time, event, lp) -> tuple[np.ndarray, np.ndarray]:
    """Breslow cumulative baseline hazard at ``lp = 0``: (event times, H0)."""
    time = np.asarray(time, dtype=float)
    event = np.asarray(event, dtype=bool)
    risk = np.exp(np.asarray(lp, dtype=float))
    t_ev, d = np.unique(time[event], return_counts=True)  # deaths at each event time
    order = np.argsort(time)
    ts, rs = time[order], risk[order]
    # sum of risk over the risk set {time >= t}: reverse cumulative sum
    rev = np.cumsum(rs[::-1])[::-1]
    first = np.searchsorted(ts, t_ev, side="left")
    at_risk = rev[first]
    return t_ev, np.cumsum(d.astype(float) / at_risk)


def efron_loglik(time, event, X, coef, *, derivatives: bool = True):
    """Efron partial log-likelihood, its gradient and Hessian (vectorised numpy).

    Same quantity as statsmodels ``PHReg(ties="efron").loglike``; used by the ``"numpy"``
    engine of :func:`fit_cox` (fast refits in bootstrap resamples).
    """
    order = np.argsort(time, kind="stable")
    t, e, Xs = time[order], event[order].astype(bool), X[order]
    eta = Xs @ coef
    shift = eta.max() if eta.size else 0.0
    w = np.exp(eta - shift)
    ut, first = np.unique(t, return_index=True)
    # risk-set sums over {time >= t_j}: reverse cumulative sums read at each time's first row
    rs0 = np.cumsum(w[::-1])[::-1][first]
    wx = w[:, None] * Xs
    rs1 = np.cumsum(wx[::-1], axis=0)[::-1][first]
    grp = np.searchsorted(ut, t)
    d = np.bincount(grp[e], minlength=ut.size).astype(float)
    ds0 = np.bincount(grp[e], weights=w[e], minlength=ut.size)
    ds1 = np.zeros_like(rs1)
    np.add.at(ds1, grp[e], wx[e])
    has = d > 0
    ties = d[has].astype(int)
    j = np.repeat(np.flatnonzero(has), ties)
    # Efron's r/d for the r-th (0-based) of the d deaths at each time: 0/d, 1/d, ..., (d-1)/d
    rank = np.arange(j.size) - np.repeat(np.cumsum(ties) - ties, ties)
    frac = rank / np.repeat(ties, ties)
    phi = rs0[j] - frac * ds0[j]
    ll = float(eta[e].sum() - np.sum(np.log(phi) + shift))
    if not derivatives:
        return ll
    m = (rs1[j] - frac[:, None] * ds1[j]) / phi[:, None]
    grad = Xs[e].sum(axis=0) - m.sum(axis=0)
    wxx = w[:, None, None] * Xs[:, :, None] * Xs[:, None, :]
    rs2 = np.cumsum(wxx[::-1], axis=0)[::-1][first]
    ds2 = np.zeros_like(rs2)
    np.add.at(ds2, grp[e], wxx[e])
    s2 = (rs2[j] - frac[:, None, None] * ds2[j]) / phi[:, None, None]
    hess = -(s2.sum(axis=0) - np.einsum("ki,kj->ij", m, m))
    return ll, grad, hess


def _newton_efron(time, event, X, *, max_iter: int = 60, tol: float = 1e-9):
    """Newton-Raphson with step halving; returns (coef, cov, loglik, converged)."""
    beta = np.zeros(X.shape[1])
    ll, g, h = efron_loglik(time, event, X, beta)
    for _ in range(max_iter):
        try:
            step = np.linalg.solve(-h, g)
        except np.linalg.LinAlgError:
            return beta, np.full((len(beta),) * 2, np.nan), ll, False
        for _half in range(30):
            cand = beta + step
            ll_new = efron_loglik(time, event, X, cand, derivatives=False)
            if np.isfinite(ll_new) and ll_new >= ll - 1e-12:
                break
            step = step / 2
        beta = cand
        ll_old = ll
        ll, g, h = efron_loglik(time, event, X, beta)
        if abs(ll - ll_old) < tol and np.max(np.abs(g)) < 1e-6 * max(1.0, abs(ll)):
            try:
                return beta, np.linalg.inv(-h), ll, True
            except np.linalg.LinAlgError:
                return beta, np.full((len(beta),) * 2, np.nan), ll, False
    return beta, np.full((len(beta),) * 2, np.nan), ll, False


def _check_design(X: pd.DataFrame, event: np.ndarray) -> None:
    for col in X.columns:
        x = X[col].to_numpy(dtype=float)
        if np.ptp(x) == 0:
            raise ModelFitError(
                f"covariate {col!r} is constant ({x[0]:g}) in the fitting data: its hazard ratio "
                "is not estimable. Potential fix: drop the factor or merge its levels."
            )
        if set(np.unique(x)) <= {0.0, 1.0}:
            ev1 = int(event[x == 1].sum())
            ev0 = int(event[x == 0].sum())
            if ev1 == 0 or ev0 == 0:
                which = "the level coded 1" if ev1 == 0 else "the reference group"
                raise ModelFitError(
                    f"covariate {col!r}: {which} has no events ({ev1} events with {col}=1, "
                    f"{ev0} with {col}=0), so the hazard ratio is 0 or infinite (monotone "
                    "likelihood). Potential fix: merge that level with a neighbouring one or drop "
                    "the factor."
                )


def fit_cox(
    time, event, X: pd.DataFrame, *, min_events: int = 2, engine: str = "statsmodels"
) -> CoxFit:
    """Fit a Cox PH model with Efron ties.

    ``engine="statsmodels"`` (default, every reported model) uses ``PHReg(ties="efron")``;
    ``engine="numpy"`` maximises the same Efron likelihood with a vectorised Newton-Raphson
    (:func:`efron_loglik`), faster, used for refits inside bootstrap resamples. Both are
    checked against each other and against lifelines in the tests.

    Parameters
    ----------
    time, event : array-like (n,)
        Right-censored outcome (event 1 = death).
    X : DataFrame (n, p)
        Numeric design (see :mod:`hcc_nomogram.stats.design`); ``p = 0`` gives the null model.

    Raises
    ------
    SurvivalDataError
        Invalid outcome or fewer than ``min_events`` events.
    ModelFitError
        Level without events, constant covariate, separation, non-convergence or non-finite fit.
    """
    time, event, X = _check_fit_inputs(time, event, X, min_events)
    n_events = int(event.sum())
    ll0 = (
        efron_loglik(time, event, np.zeros((len(time), 0)), np.zeros(0), derivatives=False)
        if engine == "numpy"
        else null_loglik(time, event)
    )
    if X.shape[1] == 0:
        t_ev, H = breslow_cumhaz(time, event, np.zeros(len(time)))
        return CoxFit(
            (), np.zeros(0), np.zeros(0), np.zeros((0, 0)), ll0, ll0, len(time), n_events, t_ev, H
        )
    _check_design(X, event)
    if engine == "numpy":
        return _finish_numpy(time, event, X, n_events, ll0)
    if engine != "statsmodels":
        raise ValueError(f"engine must be 'statsmodels' or 'numpy', got {engine!r}")
    return _finish_statsmodels(time, event, X, n_events, ll0)


def _check_fit_inputs(time, event, X, min_events: int):
    """The validated ``(time, event, X as a float DataFrame)``: enough events, no missing
    covariate, one row per patient."""
    time, event = check_survival_outcome(time, event)
    if not isinstance(X, pd.DataFrame):
        X = pd.DataFrame(np.asarray(X, dtype=float))
    X = X.astype(float)
    if len(X) != len(time):
        raise SurvivalDataError(f"X has {len(X)} rows but the outcome has {len(time)}.")
    n_events = int(event.sum())
    if n_events < min_events:
        raise SurvivalDataError(
            f"only {n_events} event(s): a Cox model needs at least {min_events}. "
            "Potential fix: check the event coding (1 = death) or pool cohorts."
        )
    bad = X.columns[X.isna().any().to_numpy()]
    if len(bad):
        raise SurvivalDataError(
            f"covariate(s) {list(bad)} contain missing values. Potential fix: drop incomplete "
            "patients before fitting (the pipeline does this and logs how many)."
        )
    return time, event, X


def _finish_statsmodels(time, event, X, n_events, ll0) -> CoxFit:
    """statsmodels ``PHReg(ties="efron")`` fit, checked for convergence and finite estimates."""
    p = X.shape[1]
    # centred columns (as R coxph): same coefficients and likelihood, but Newton-Raphson
    # starting at 0 no longer overflows exp(X beta) when columns have large means
    model = PHReg(time, _centred(X), status=event.astype(float), ties="efron")
    res, caught = _newton_statsmodels(model, X)
    if not np.all(np.isfinite(res.params)):
        # statsmodels' Newton has no step halving (R's coxph has) and can overshoot to NaN on
        # many correlated columns: start it again from a quasi-Newton (BFGS) solution
        start, _ = _newton_statsmodels(model, X, method="bfgs", maxiter=1000)
        res, caught = _newton_statsmodels(model, X, start_params=start.params)
    coef = np.asarray(res.params, dtype=float)
    cov = np.asarray(res.cov_params(), dtype=float)
    se = np.sqrt(np.diag(cov)) if np.all(np.diag(cov) > 0) else np.full(p, np.nan)
    grad = np.asarray(model.score(coef), dtype=float)
    converged = np.all(np.isfinite(grad)) and np.max(np.abs(grad)) < 1e-3 * max(1.0, n_events)
    conv_warn = [str(w.message) for w in caught if "converge" in str(w.message).lower()]
    _check_estimates(X, coef, se)
    if not converged or conv_warn:
        raise ModelFitError(
            f"Cox fit on {list(X.columns)} did not converge (max |score| "
            f"{np.max(np.abs(grad)):.3g}; {'; '.join(conv_warn)}). Potential fix: rescale "
            "continuous covariates (e.g. `step`) or remove collinear factors."
        )
    return _make_fit(
        time, event, X, coef=coef, se=se, cov=cov, ll=float(res.llf), ll0=ll0, n_events=n_events
    )


def _newton_statsmodels(model: PHReg, X: pd.DataFrame, **fit_args):
    """``model.fit`` (Newton by default) with its warnings recorded: (results, warnings)."""
    fit_args = {"maxiter": 200, "disp": 0, **fit_args}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            return model.fit(**fit_args), caught
        except (np.linalg.LinAlgError, ValueError) as exc:
            raise ModelFitError(
                f"Cox fit failed on covariates {list(X.columns)}: {exc}. Potential fix: remove "
                "collinear factors or merge sparse levels."
            ) from exc


def _centred(X: pd.DataFrame) -> np.ndarray:
    """Design columns minus their means (the fit is invariant to this shift)."""
    values = X.to_numpy(dtype=float)
    return values - values.mean(axis=0)


def _check_estimates(X, coef, se) -> None:
    if not (np.all(np.isfinite(coef)) and np.all(np.isfinite(se))):
        raise ModelFitError(
            f"Cox fit on {list(X.columns)} gave non-finite estimates (coef {coef}, se {se}). "
            "Potential fix: check for collinear covariates or levels with very few patients."
        )
    if np.any(np.abs(coef) > MAX_ABS_COEF) or np.any(se > MAX_SE):
        worst = X.columns[int(np.argmax(np.abs(coef) + se))]
        raise ModelFitError(
            f"Cox fit on {list(X.columns)}: covariate {worst!r} has |log HR| or SE exploding "
            f"(coef {coef.round(2).tolist()}, se {se.round(2).tolist()}): (quasi-)complete "
            "separation. Potential fix: merge sparse levels or drop the factor."
        )


def _finish_numpy(time, event, X, n_events, ll0) -> CoxFit:
    coef, cov, ll, ok = _newton_efron(time, event.astype(bool), _centred(X))
    if not ok:
        raise ModelFitError(
            f"Cox fit on {list(X.columns)} did not converge (Newton-Raphson, Efron ties). "
            "Potential fix: merge sparse levels or remove collinear factors."
        )
    se = np.sqrt(np.clip(np.diag(cov), 0, None))
    _check_estimates(X, coef, se)
    return _make_fit(time, event, X, coef=coef, se=se, cov=cov, ll=ll, ll0=ll0, n_events=n_events)


def _make_fit(  # noqa: PLR0913  the fields of CoxFit, by keyword
    time, event, X, *, coef, se, cov, ll, ll0, n_events
) -> CoxFit:
    lp = X.to_numpy() @ coef
    t_ev, H = breslow_cumhaz(time, event, lp)
    return CoxFit(
        covariates=tuple(map(str, X.columns)),
        coef=coef,
        se=se,
        cov=cov,
        loglik=float(ll),
        loglik_null=float(ll0),
        n=len(time),
        n_events=n_events,
        baseline_time=t_ev,
        baseline_cumhaz=H,
    )


def _efron_moments(time, event, X, coef):
    """Per distinct event time: (t, summed covariates of its deaths, Efron mean of X summed over
    the d tie levels, Efron variance of X summed over the tie levels)."""
    w = np.exp(X @ coef)
    out = []
    for t in np.unique(time[event]):
        at_risk = time >= t
        dead = event & (time == t)
        wr, wd = w[at_risk], w[dead]
        s0r, s1r, s2r = wr.sum(), wr @ X[at_risk], (wr[:, None] * X[at_risk]).T @ X[at_risk]
        s0d, s1d, s2d = wd.sum(), wd @ X[dead], (wd[:, None] * X[dead]).T @ X[dead]
        mean_sum = np.zeros(X.shape[1])
        var_sum = np.zeros((X.shape[1], X.shape[1]))
        for f in np.arange(dead.sum()) / dead.sum():
            s0 = s0r - f * s0d
            m = (s1r - f * s1d) / s0
            mean_sum += m
            var_sum += (s2r - f * s2d) / s0 - np.outer(m, m)
        out.append((t, X[dead].sum(axis=0), mean_sum, var_sum))
    return out


def schoenfeld_residuals(time, event, X, coef) -> tuple[np.ndarray, np.ndarray]:
    """Efron-weighted Schoenfeld residuals, one row per event, sorted by event time.

    For ``d`` deaths tied at ``t`` the expected covariate is the average over ``l = 0..d-1`` of
    ``(S1_R - l/d S1_D) / (S0_R - l/d S0_D)`` (risk set R, deaths D), as R ``residuals.coxph``.
    """
    time = np.asarray(time, dtype=float)
    event = np.asarray(event, dtype=bool)
    X = np.asarray(X, dtype=float)
    times_out, rows = [], []
    for t, _, mean_sum, _ in _efron_moments(time, event, X, coef):
        dead = np.flatnonzero(event & (time == t))
        for i in dead:
            times_out.append(t)
            rows.append(X[i] - mean_sum / dead.size)
    return np.array(times_out), np.array(rows).reshape(len(rows), X.shape[1])


def _event_time_transform(time, event, transform: str) -> np.ndarray:
    """g(t) at each event (one value per event row, in the order of ``time[event]``)."""
    t_ev = time[event]
    if transform == "identity":
        return t_ev.astype(float)
    if transform == "log":
        return np.log(t_ev)
    if transform == "rank":
        return stats.rankdata(t_ev)
    if transform == "km":
        # 1 - KM(t-) (left-continuous), as R survival::cox.zph (transform = "km")
        km = kaplan_meier(time, event).table
        s = km["survival"].to_numpy()
        idx = np.searchsorted(km["time"].to_numpy(), t_ev, side="left") - 1
        return 1.0 - np.where(idx >= 0, s[np.clip(idx, 0, None)], 1.0)
    raise ValueError(f"transform must be 'km', 'rank', 'identity' or 'log', got {transform!r}")


def _zph_score_tests(time, event, X, coef, g) -> tuple[np.ndarray, float]:
    """Score tests of R ``survival::cox.zph`` (survival >= 3.0).

    The model is augmented with the time-varying covariates ``X * g(t)``; at ``(beta_hat, 0)``
    the score of the new coefficients is ``U = sum_t g(t) * (Schoenfeld residuals at t)`` and
    the information has blocks ``sum V_t``, ``sum g V_t``, ``sum g^2 V_t`` (``V_t`` the Efron
    variance of X at event time t). Per covariate j: ``U_j^2 / [I^-1]`` restricted to the
    original block plus column j; global: all columns.
    """
    p = X.shape[1]
    u = np.zeros(p)
    info = np.zeros((2 * p, 2 * p))
    t_ev = time[event]
    for t, x_dead, mean_sum, var_sum in _efron_moments(time, event, X, coef):
        gt = g[np.flatnonzero(t_ev == t)[0]]
        u += gt * (x_dead - mean_sum)
        info[:p, :p] += var_sum
        info[:p, p:] += gt * var_sum
        info[p:, :p] += gt * var_sum
        info[p:, p:] += gt * gt * var_sum
    per = np.empty(p)
    for j in range(p):
        kk = [*range(p), p + j]
        vec = np.r_[np.zeros(p), u[j]]
        per[j] = float(np.linalg.solve(info[np.ix_(kk, kk)], vec) @ vec)
    vec = np.r_[np.zeros(p), u]
    return per, float(np.linalg.solve(info, vec) @ vec)


def proportional_hazards_test(  # noqa: PLR0913  R cox.zph(fit, transform, terms) + data
    fit: CoxFit, time, event, X: pd.DataFrame, *, transform: str = "km", method: str = "score"
) -> pd.DataFrame:
    """Grambsch-Therneau test of proportional hazards (per covariate and ``"GLOBAL"``).

    ``method="score"`` (default) is the test of R ``survival::cox.zph`` since survival 3.0: a
    score test that the coefficients of the added time-varying covariates ``X * g(t)`` are 0
    (:func:`_zph_score_tests`; checked against R in ``tests/reference``).
    ``method="approximate"`` is the older approximation (R survival < 3.0, and
    ``lifelines.CoxPHFitter.check_assumptions``): scaled Schoenfeld residuals
    (``D * Var(beta)``) correlated with ``g(t)``, which assumes the covariate variance in the
    risk set is constant over time. Both use Efron-weighted Schoenfeld residuals
    (:func:`schoenfeld_residuals`, own implementation) and ``g(t)`` = ``transform`` (default
    ``1 - KM(t-)``). Returns rows per covariate plus ``"GLOBAL"``: rho (correlation of the
    scaled residuals with g(t)), chi2, df, P, transform, method. A small P (< 0.05) suggests
    the hazard ratio changes over time.
    """
    if method not in ("score", "approximate"):
        raise ValueError(f"method must be 'score' or 'approximate', got {method!r}")
    time, event = check_survival_outcome(time, event)
    Xv = X[list(fit.covariates)].to_numpy(dtype=float)
    _, resid = schoenfeld_residuals(time, event, Xv, fit.coef)
    g_event = _event_time_transform(time, event, transform)  # order of time[event]
    g = g_event[np.argsort(time[event], kind="stable")]
    d = resid.shape[0]
    xx = g - g.mean()
    scaled = resid @ fit.cov * d  # scaled residuals minus beta
    if method == "score":
        per, global_chi2 = _zph_score_tests(time, event, Xv, fit.coef, g_event - g_event.mean())
    else:
        per = np.array(
            [(xx @ scaled[:, j]) ** 2 / (fit.cov[j, j] * d * np.sum(xx**2)) for j in range(fit.df)]
        )
        u = xx @ resid
        global_chi2 = float(u @ fit.cov @ u * d / np.sum(xx**2))
    rows = []
    for j, name in enumerate(fit.covariates):
        rho = float(np.corrcoef(xx, scaled[:, j])[0, 1]) if np.ptp(scaled[:, j]) > 0 else np.nan
        rows.append((name, rho, float(per[j]), 1, float(stats.chi2.sf(per[j], 1))))
    rows.append(("GLOBAL", np.nan, global_chi2, fit.df, float(stats.chi2.sf(global_chi2, fit.df))))
    return pd.DataFrame(rows, columns=["covariate", "rho", "chi2", "df", "p_value"]).assign(
        transform=transform, method=method
    )


def univariate_cox(  # noqa: PLR0913  outcome, design, terms as the other Cox functions
    time, event, design: pd.DataFrame, terms: dict, alpha: float = 0.05, *, engine="statsmodels"
):
    """One Cox model per term (Efron ties).

    Returns one row per design column: term, covariate, n, n_events, hr, hr_ci_lower,
    hr_ci_upper, p_value (Wald, this column), term_p_value (joint Wald of the term's columns,
    = p_value for one-column terms) and ``error`` (why the fit failed, else ""). A failed term
    gets NaN estimates and a non-empty ``error``: it is reported, never silently dropped.
    """
    rows = []
    for term, cols in terms.items():
        try:
            fit = fit_cox(time, event, design[cols], engine=engine)
        except (ModelFitError, SurvivalDataError) as exc:
            for col in cols:
                rows.append(
                    dict(
                        term=term,
                        covariate=col,
                        n=len(design),
                        n_events=int(np.sum(event)),
                        hr=np.nan,
                        hr_ci_lower=np.nan,
                        hr_ci_upper=np.nan,
                        p_value=np.nan,
                        term_p_value=np.nan,
                        error=str(exc),
                    )
                )
            continue
        summ = fit.summary(alpha)
        term_p = fit.wald_test(list(fit.covariates))[2]
        for _, r in summ.iterrows():
            rows.append(
                dict(
                    term=term,
                    covariate=r["covariate"],
                    n=fit.n,
                    n_events=fit.n_events,
                    hr=r["hr"],
                    hr_ci_lower=r["hr_ci_lower"],
                    hr_ci_upper=r["hr_ci_upper"],
                    p_value=r["p_value"],
                    term_p_value=term_p,
                    error="",
                )
            )
    return pd.DataFrame(rows)
