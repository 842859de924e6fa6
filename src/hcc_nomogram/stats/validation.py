"""Bootstrap optimism correction of Harrell's C (Harrell's ``rms::validate`` style).

``develop(train_df) -> predict(df) -> risk`` is the *whole* model-building procedure
(screening and stepwise selection included); it is repeated in each bootstrap resample:

``optimism_b = C(model_b on resample_b) - C(model_b on original data)``,
``C_corrected = C_apparent - mean_b optimism_b``.

Resamples whose development fails (e.g. a level without events in the resample) are skipped
and counted; the result reports ``n_failed``.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from hcc_nomogram.errors import HccNomogramError
from hcc_nomogram.stats.concordance import harrell_c_index

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class OptimismResult:
    c_apparent: float
    optimism: float
    c_corrected: float
    n_bootstrap: int
    n_failed: int
    seed: int

    def to_dict(self) -> dict:
        return asdict(self)


def bootstrap_optimism(  # noqa: PLR0913  keyword-only, as rms::validate(B=)
    data: pd.DataFrame,
    develop: Callable[[pd.DataFrame], Callable[[pd.DataFrame], np.ndarray]],
    *,
    time_col: str,
    event_col: str,
    n_bootstrap: int = 50,
    seed: int = 0,
    resamples: Sequence[np.ndarray] | None = None,
    map_ordered: MapOrdered | None = None,
) -> OptimismResult:
    """Optimism-corrected Harrell's C of a model-building procedure (see module docstring).

    ``resamples``: explicit row indices (0-based) of each bootstrap sample instead of drawing
    ``n_bootstrap`` of them with ``seed`` (e.g. to replay the resamples of R
    ``rms::validate``); ``n_bootstrap`` is then their number.

    ``map_ordered(fn, items)``: where the resamples run, e.g. the run's compute engine
    (:meth:`hcc_nomogram.compute.Engine.map_ordered`), which yields ``fn(item)`` in the order
    of ``items``; ``develop`` must then be picklable. The resamples are cut into chunks of
    :data:`RESAMPLES_PER_TASK`; each resample's optimism depends only on its rows, and the
    mean is taken in resample order, so the result is the same wherever they run.
    """
    apparent = _c_of(develop(data), data, time_col, event_col)
    if resamples is None:
        rng = np.random.default_rng(seed)
        resamples = [rng.integers(0, len(data), len(data)) for _ in range(n_bootstrap)]
    resamples = [np.asarray(idx) for idx in resamples]
    n_bootstrap = len(resamples)
    task = functools.partial(
        _optimism_of_resamples, data=data, develop=develop, time_col=time_col, event_col=event_col
    )
    chunks = [
        resamples[i : i + RESAMPLES_PER_TASK] for i in range(0, n_bootstrap, RESAMPLES_PER_TASK)
    ]
    optimism, failed = [], 0
    for chunk in (map_ordered or _map_here)(task, chunks):
        for value, problem in chunk:
            if problem is None:
                optimism.append(value)
            else:
                failed += 1
                logger.debug("bootstrap resample skipped: %s", problem)
    if failed:
        logger.warning(
            "bootstrap optimism: %d of %d resamples failed and were skipped", failed, n_bootstrap
        )
    opt = float(np.mean(optimism)) if optimism else float("nan")
    return OptimismResult(float(apparent), opt, float(apparent - opt), n_bootstrap, failed, seed)


RESAMPLES_PER_TASK = 10
MapOrdered = Callable[[Callable[[Any], Any], Sequence[Any]], Iterable[Any]]


def _map_here(fn, items):
    return (fn(item) for item in items)


def _c_of(predict, df: pd.DataFrame, time_col: str, event_col: str) -> float:
    return harrell_c_index(df[time_col], df[event_col], predict(df)).c_index


def _optimism_of_resamples(
    chunk: Sequence[np.ndarray], *, data: pd.DataFrame, develop, time_col: str, event_col: str
) -> list[tuple[float, str | None]]:
    """``(optimism, None)`` per resample of ``chunk``, or ``(nan, why)`` where development
    failed: the pure function run on the engine's workers."""
    out = []
    for idx in chunk:
        boot = data.iloc[idx].reset_index(drop=True)
        try:
            predict = develop(boot)
            out.append(
                (
                    _c_of(predict, boot, time_col, event_col)
                    - _c_of(predict, data, time_col, event_col),
                    None,
                )
            )
        except HccNomogramError as exc:
            out.append((float("nan"), str(exc)))
    return out
