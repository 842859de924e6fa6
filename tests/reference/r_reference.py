"""Loaders of the R reference files of this folder (written by ``make_reference.R``; the tests
read the committed files and never call R)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

HERE = Path(__file__).parent


def csv(name: str) -> pd.DataFrame:
    """A committed CSV of this folder (datasets ``data_*.csv`` or outputs ``ref_*.csv``)."""
    return pd.read_csv(HERE / name)


def reference_json(name: str):
    return json.loads((HERE / name).read_text())


def dummies(values: pd.Series, levels, prefix: str) -> pd.DataFrame:
    """0/1 columns for every level but the first (R's treatment contrasts), named like R."""
    return pd.DataFrame(
        {f"{prefix}{lvl}": (values == lvl).astype(float) for lvl in levels[1:]},
        index=values.index,
    )
