"""Minimum-redundancy maximum-relevance (mRMR) feature ranking, a wrapper around ``pymrmr``.

The rest of the project never calls ``pymrmr`` directly; it uses three steps, each explicit:

1. :func:`fit_discretiser` / :func:`discretise` - continuous features -> three states
   (-1 / 0 / +1) at ``mean -/+ k * SD`` (Peng et al. 2005 discretise at ``mu +/- sigma`` or
   ``mu +/- 0.5 sigma``; ``k`` is a parameter). Mean and SD come from the data the discretiser is
   fitted on (the training cohort only).
2. :func:`survival_class` - a right-censored outcome -> a binary class for mRMR:
   ``1`` = event at or before the horizon ``H``; ``0`` = follow-up beyond ``H`` (alive at ``H``,
   whatever happened later); patients censored at or before ``H`` have an unknown class and are
   excluded from the mRMR step only (``NaN``). :func:`km_median` gives the default ``H``: the
   Kaplan-Meier median survival of the training cohort.
3. :func:`mrmr_rank` - the ranking itself, with ``pymrmr.mRMR`` (MID or MIQ criterion).

``pymrmr`` quirks handled here: the class must be the first column; every value is cast to
``int`` (so we pass integer states); it prints to the C-level stdout (captured at the
file-descriptor level and parsed for the mRMR scores); asking for more features than exist
returns the class column as a "feature" (we clamp); and its run time grows as
``n * pool^2 * n_features^2`` (it copies the data for every mutual information), so, like Peng's
original program (which considers a pool of the most relevant features), the candidates are
first restricted to the ``pool_size`` features with the largest mutual information with the
class.

References
----------
Peng H, Long F, Ding C. Feature selection based on mutual information: criteria of
max-dependency, max-relevance, and min-redundancy. IEEE TPAMI 2005;27:1226-38.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import re
import sys
import tempfile
from dataclasses import dataclass

import numpy as np
import pandas as pd

from hcc_nomogram.errors import InputDataError, SurvivalDataError
from hcc_nomogram.stats.survival import kaplan_meier

MRMR_METHODS = ("MID", "MIQ")
_CLASS_COLUMN = "__class__"
_LIBC = ctypes.CDLL(None)


@dataclass(frozen=True)
class Discretiser:
    """Three-state discretiser fitted on training data: ``-1`` below ``mean - k*sd``, ``+1``
    above ``mean + k*sd``, ``0`` in between."""

    features: tuple[str, ...]
    mean: tuple[float, ...]
    sd: tuple[float, ...]
    k_sd: float


def fit_discretiser(features: pd.DataFrame, k_sd: float = 0.5) -> Discretiser:
    """Fit the per-feature mean and SD (ddof=1). Raises if a feature is constant or missing."""
    if k_sd <= 0:
        raise ValueError(f"k_sd must be > 0, got {k_sd}")
    if features.shape[1] == 0:
        raise InputDataError(
            "no feature column to discretise.",
            fix="check that the feature table has columns (e.g. that the ICC filter kept some).",
        )
    values = features.to_numpy(dtype=np.float64)
    if not np.all(np.isfinite(values)):
        bad = features.columns[~np.all(np.isfinite(values), axis=0)]
        raise InputDataError(
            f"{len(bad)} feature(s) have missing or infinite values.", column=list(bad[:5])
        )
    sd = values.std(axis=0, ddof=1)
    if np.any(sd == 0):
        bad = features.columns[sd == 0]
        raise InputDataError(
            f"{len(bad)} feature(s) are constant in the training data.",
            column=list(bad[:5]),
            fix="remove constant features before mRMR.",
        )
    return Discretiser(tuple(features.columns), tuple(values.mean(0)), tuple(sd), float(k_sd))


def discretise(features: pd.DataFrame, discretiser: Discretiser) -> pd.DataFrame:
    """Apply a fitted :class:`Discretiser`; returns an ``int8`` frame of -1 / 0 / +1."""
    missing = [f for f in discretiser.features if f not in features.columns]
    if missing:
        raise InputDataError(
            f"{len(missing)} feature(s) the discretiser was fitted on are missing.",
            column=missing[:5],
        )
    x = features.loc[:, list(discretiser.features)].to_numpy(dtype=np.float64)
    mean, sd = np.asarray(discretiser.mean), np.asarray(discretiser.sd)
    z = (x - mean) / sd
    states = np.where(z < -discretiser.k_sd, -1, np.where(z > discretiser.k_sd, 1, 0))
    return pd.DataFrame(
        states.astype(np.int8), index=features.index, columns=list(discretiser.features)
    )


def km_median(time, event) -> float:
    """Kaplan-Meier median survival time; raises if the survival curve never reaches 0.5."""
    km = kaplan_meier(time, event)
    if not np.isfinite(km.median):
        raise SurvivalDataError(
            f"the Kaplan-Meier median is not reached (survival "
            f"{km.table['survival'].iloc[-1]:.2f} at the last event). "
            "Potential fix: set signature.mrmr.horizon_months to a fixed horizon."
        )
    return km.median


def survival_class(time, event, horizon: float) -> np.ndarray:
    """Binary class at ``horizon``: 1 = event at/before it, 0 = followed beyond it,
    NaN = censored at/before it (unknown class; excluded from mRMR)."""
    time = np.asarray(time, dtype=np.float64)
    event = np.asarray(event).astype(bool)
    cls = np.full(time.shape, np.nan)
    cls[time > horizon] = 0.0
    cls[(time <= horizon) & event] = 1.0
    return cls


def mutual_information(x, y) -> np.ndarray:
    """Mutual information (bits) of each column of the integer matrix ``x`` with ``y``,
    from the empirical joint distribution, as pymrmr computes it."""
    x = np.asarray(x)
    y = np.asarray(y)
    mi = np.zeros(x.shape[1])
    n = y.shape[0]
    for yv in np.unique(y):
        py = np.mean(y == yv)
        in_y = (y == yv)[:, None]
        for xv in np.unique(x):
            joint = np.sum((x == xv) & in_y, axis=0) / n
            px = np.mean(x == xv, axis=0)
            ok = joint > 0
            mi[ok] += joint[ok] * np.log2(joint[ok] / (px[ok] * py))
    return mi


@contextlib.contextmanager
def _captured_c_stdout():
    """Redirect file descriptor 1 (C ``printf``) to a temporary file; yields a list that
    receives the captured text. Not thread-safe (fd 1 is process-wide)."""
    sys.stdout.flush()
    captured: list[str] = []
    saved = os.dup(1)
    with tempfile.TemporaryFile(mode="w+b") as tmp:
        os.dup2(tmp.fileno(), 1)
        try:
            yield captured
        finally:
            _LIBC.fflush(None)
            os.dup2(saved, 1)
            os.close(saved)
            tmp.seek(0)
            captured.append(tmp.read().decode("utf-8", errors="replace"))


def _parse_mrmr_scores(text: str, selected: list[str]) -> list[float]:
    block = text.rsplit("*** mRMR features ***", maxsplit=1)[-1]
    scores = {}
    for line in block.splitlines():
        m = re.match(r"\s*(\d+)\s+\d+\s+(\S+)\s+(-?[\d.]+|-?nan|-?inf)\s*$", line)
        if m:
            scores[m.group(2)] = float(m.group(3))
    return [scores.get(f, np.nan) for f in selected]


def mrmr_rank(
    states: pd.DataFrame,
    target,
    *,
    method: str = "MID",
    n_features: int = 50,
    pool_size: int | None = 200,
) -> pd.DataFrame:
    """Rank discretised features by mRMR with ``pymrmr``.

    Parameters
    ----------
    states : DataFrame
        Integer feature states (e.g. from :func:`discretise`), one row per patient.
    target : array-like
        Integer class per row (no missing values: drop unknown classes first).
    method : {"MID", "MIQ"}
        Mutual information difference or quotient.
    n_features : int
        Length of the ranking (clamped to the number of candidate features).
    pool_size : int or None
        Candidates = this many features with the largest relevance (None: all).

    Returns
    -------
    DataFrame with columns ``rank`` (1 = best), ``feature``, ``mrmr_score`` (the criterion
    when the feature was chosen, parsed from pymrmr's output; for rank 1 its relevance) and
    ``relevance_mi`` (mutual information with the class, bits).
    """
    import pymrmr

    if method not in MRMR_METHODS:
        raise ValueError(f"method must be one of {MRMR_METHODS}, got {method!r}")
    target = np.asarray(target)
    if target.shape[0] != states.shape[0]:
        raise InputDataError(
            f"target has {target.shape[0]} values for {states.shape[0]} rows of states."
        )
    if pd.isna(target).any():
        raise InputDataError("target has missing classes; drop those rows before mRMR.")
    if np.unique(target).shape[0] < 2:
        raise SurvivalDataError(
            "the mRMR class has a single value: every patient is in the same outcome class. "
            "Potential fix: choose another signature.mrmr.horizon_months."
        )
    if states.shape[1] == 0:
        raise InputDataError("no feature to rank.")
    if n_features < 1:
        raise ValueError(f"n_features must be >= 1, got {n_features}")
    x = states.to_numpy()
    relevance = pd.Series(mutual_information(x, target), index=states.columns)
    candidates = list(states.columns)
    if pool_size is not None and pool_size < len(candidates):
        # stable sort: ties keep the column order
        order = np.argsort(-relevance.to_numpy(), kind="stable")[:pool_size]
        candidates = [states.columns[i] for i in sorted(order)]
    n_features = min(n_features, len(candidates))
    frame = pd.DataFrame(states.loc[:, candidates].to_numpy(dtype=np.int64), columns=candidates)
    frame.insert(0, _CLASS_COLUMN, target.astype(np.int64))
    with _captured_c_stdout() as out:
        selected = pymrmr.mRMR(frame, method, n_features)
    selected = [str(f) for f in selected]
    if _CLASS_COLUMN in selected or len(set(selected)) != len(selected):
        raise RuntimeError(f"pymrmr returned an invalid ranking: {selected[:10]}")
    return pd.DataFrame(
        {
            "rank": np.arange(1, len(selected) + 1),
            "feature": selected,
            "mrmr_score": _parse_mrmr_scores(out[0], selected),
            "relevance_mi": relevance.loc[selected].to_numpy(),
        }
    )
