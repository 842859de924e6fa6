"""Table 1: patient characteristics by cohort, with between-cohort tests.

* categorical variables (and continuous ones with a cut-off): counts and column percentages per
  level, two-sided **Fisher's exact test** on the levels x cohorts table: exact enumeration of
  every table with the observed margins when one side has 2 categories (R x 2 / 2 x C, as R
  ``fisher.test``); SciPy's R x C ``fisher_exact`` is a Monte Carlo estimate (unseeded), used
  only for larger tables, seeded, with 100 000 resamples;
* numeric variables: median (IQR) per cohort, two-sided **Mann-Whitney U** test (two cohorts) or
  Kruskal-Wallis (more than two).
Missing values are counted in a ``missing`` level and left out of the tests.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats
from scipy.special import gammaln

from hcc_nomogram.errors import require_columns
from hcc_nomogram.stats.design import COLUMN_FIX

MAX_EXACT_TABLES = 5_000_000  # R x 2 enumeration limit before the seeded Monte Carlo fallback


def fisher_exact_rxc(table) -> float:
    """Two-sided Fisher's exact P for an R x C contingency table (rows/cols with 0 total are
    removed; fewer than 2 rows or columns left -> P = 1).

    R x 2 and 2 x C tables: every table with the observed margins is enumerated and P is the
    total probability of those no more likely than the observed one (relative tolerance
    1e-7, as R ``fisher.test``). Larger tables, or more than :data:`MAX_EXACT_TABLES`
    tables: SciPy's Monte Carlo estimate, seeded (``rng = 0``), 100 000 resamples.
    """
    t = np.asarray(table, dtype=np.int64)
    t = t[t.sum(axis=1) > 0][:, t.sum(axis=0) > 0]
    if t.shape[0] < 2 or t.shape[1] < 2:
        return 1.0
    if t.shape[1] != 2 and t.shape[0] == 2:
        t = t.T
    if t.shape[1] == 2 and np.prod(t.sum(axis=1)[:-1] + 1.0) <= MAX_EXACT_TABLES:
        return _fisher_exact_rx2(t)
    method = stats.MonteCarloMethod(n_resamples=100_000, rng=np.random.default_rng(0))
    return float(stats.fisher_exact(t, method=method).pvalue)


def _fisher_exact_rx2(t: np.ndarray) -> float:
    """Exact two-sided P of an R x 2 table by enumerating its first column."""
    rows = t.sum(axis=1)
    first = int(t[:, 0].sum())

    def log_choose(n, k):
        return gammaln(n + 1) - gammaln(k + 1) - gammaln(n - k + 1)

    # partial tables over the first i rows: (sum of column 1 so far, log-probability terms)
    sums, logp = np.zeros(1, dtype=np.int64), np.zeros(1)
    for r in rows[:-1]:
        a = np.arange(r + 1)
        sums = (sums[:, None] + a[None, :]).ravel()
        logp = (logp[:, None] + log_choose(r, a)[None, :]).ravel()
        keep = sums <= first
        sums, logp = sums[keep], logp[keep]
    last = first - sums
    ok = last <= rows[-1]
    logp = logp[ok] + log_choose(rows[-1], last[ok]) - log_choose(rows.sum(), first)
    observed = np.sum(log_choose(rows, t[:, 0])) - log_choose(rows.sum(), first)
    prob = np.exp(logp)
    return float(min(1.0, prob[prob <= np.exp(observed) * (1 + 1e-7)].sum()))


def _fmt_pct(n: int, total: int) -> str:
    return f"{n} ({100.0 * n / total:.1f}%)" if total else "0"


def table1(  # noqa: PLR0913  keyword-only column lists, as R tableone
    df: pd.DataFrame,
    group_col: str,
    *,
    categorical=(),
    numeric=(),
    cutoffs: dict | None = None,
    group_order=None,
) -> pd.DataFrame:
    """Long-format Table 1.

    Parameters
    ----------
    categorical : list of column names summarized by level.
    numeric : list of column names summarized by median (IQR).
    cutoffs : ``{column: cutoff}``: numeric columns also (or only) shown dichotomised at
        ``> cutoff`` as a categorical row block (e.g. AFP > 400).

    Returns
    -------
    DataFrame with columns variable, level, ``<group>`` (one text column per group), test,
    p_value (on the first row of each variable).
    """
    cutoffs = dict(cutoffs or {})
    require_columns(
        df, [group_col, *categorical, *numeric, *cutoffs], name="analysis_table", fix=COLUMN_FIX
    )
    groups = (
        list(group_order) if group_order is not None else sorted(df[group_col].dropna().unique())
    )
    rows = []
    for col in categorical:
        rows += _categorical_rows(df, col, df[col], group_col, groups)
    for col, cut in cutoffs.items():
        x = pd.to_numeric(df[col], errors="coerce")
        binned = pd.Series(
            np.where(x.isna(), None, np.where(x > cut, f">{cut:g}", f"<={cut:g}")), index=df.index
        )
        rows += _categorical_rows(df, f"{col} (cut-off {cut:g})", binned, group_col, groups)
    for col in numeric:
        rows.append(_numeric_row(df, col, group_col, groups))
    return pd.DataFrame(rows, columns=["variable", "level", *map(str, groups), "test", "p_value"])


def _categorical_rows(df, name, values, group_col, groups) -> list[list]:
    v = values.astype(object).where(values.notna(), None)
    levels = sorted({x for x in v if x is not None}, key=str)
    counts = np.array(
        [[int(((v == lvl) & (df[group_col] == g)).sum()) for g in groups] for lvl in levels]
    )
    totals = counts.sum(axis=0)
    p = fisher_exact_rxc(counts)
    out = []
    for i, lvl in enumerate(levels):
        out.append(
            [
                name,
                str(lvl),
                *(_fmt_pct(counts[i, j], totals[j]) for j in range(len(groups))),
                "Fisher's exact" if i == 0 else "",
                p if i == 0 else np.nan,
            ]
        )
    n_missing = [int((v.isna() & (df[group_col] == g)).sum()) for g in groups]
    if any(n_missing):
        out.append([name, "missing", *map(str, n_missing), "", np.nan])
    return out


def _numeric_row(df, col, group_col, groups) -> list:
    x = pd.to_numeric(df[col], errors="coerce")
    samples = [x[df[group_col] == g].dropna().to_numpy() for g in groups]
    cells = [
        f"{np.median(s):.1f} ({np.percentile(s, 25):.1f}-{np.percentile(s, 75):.1f})"
        if s.size
        else "NA"
        for s in samples
    ]
    valid = [s for s in samples if s.size]
    if len(valid) == 2:
        test, p = (
            "Mann-Whitney U",
            float(stats.mannwhitneyu(*valid, alternative="two-sided").pvalue),
        )
    elif len(valid) > 2:
        test, p = "Kruskal-Wallis", float(stats.kruskal(*valid).pvalue)
    else:
        test, p = "", np.nan
    return [col, "median (IQR)", *cells, test, p]
