"""Bootstrap optimism correction of Harrell's C (Harrell's ``rms::validate`` style).

``develop(train_df) -> predict(df) -> risk`` is the *whole* model-building procedure
(screening and stepwise selection included); it is repeated in each bootstrap resample:

``optimism_b = C(model_b on resample_b) - C(model_b on original data)``,
``C_corrected = C_apparent - mean_b optimism_b``.

Resamples whose development fails (e.g. a level without events in the resample) are skipped
and counted; the result reports ``n_failed``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

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
) -> OptimismResult:
    """Optimism-corrected Harrell's C of a model-building procedure (see module docstring).

    ``resamples``: explicit row indices (0-based) of each bootstrap sample instead of drawing
    ``n_bootstrap`` of them with ``seed`` (e.g. to replay the resamples of R
    ``rms::validate``); ``n_bootstrap`` is then their number.
    """

    def c_of(predict, df):
        return harrell_c_index(df[time_col], df[event_col], predict(df)).c_index

    apparent = c_of(develop(data), data)
    if resamples is None:
        rng = np.random.default_rng(seed)
        resamples = [rng.integers(0, len(data), len(data)) for _ in range(n_bootstrap)]
    n_bootstrap = len(resamples)
    optimism, failed = [], 0
    for idx in resamples:
        boot = data.iloc[np.asarray(idx)].reset_index(drop=True)
        try:
            predict = develop(boot)
            optimism.append(c_of(predict, boot) - c_of(predict, data))
        except HccNomogramError as exc:
            failed += 1
            logger.debug("bootstrap resample skipped: %s", exc)
    if failed:
        logger.warning(
            "bootstrap optimism: %d of %d resamples failed and were skipped", failed, n_bootstrap
        )
    opt = float(np.mean(optimism)) if optimism else float("nan")
    return OptimismResult(float(apparent), opt, float(apparent - opt), n_bootstrap, failed, seed)
