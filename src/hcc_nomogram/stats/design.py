"""Design matrices for Cox models: how a clinical factor becomes model columns.

A :class:`Term` is one clinical factor as the paper reports it:

* ``kind="categorical"``: one 0/1 column per non-reference level (``"bclc[C]"``); the
  reference level (``reference``, default the first level seen in training) has HR 1;
* ``kind="continuous"`` with ``cutoff``: a single 0/1 column ``"afp[>400]"`` (value > cutoff,
  the paper's AFP > 400 ng/mL, ALT > 50 U/L, AST > 40 U/L, size > 5 cm, age > 55 y);
* ``kind="continuous"`` without cutoff: the value divided by ``step`` (``"signature[per 0.2]"``),
  so the HR is per ``step`` units (the paper reports the signature HR per 0.2).

Levels are learned once, on the training cohort (:func:`fit_terms`), and the same encoding is
applied unchanged to any other cohort (:func:`encode`); an unseen level is an error.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from hcc_nomogram.errors import InputDataError, require_columns

KINDS = ("categorical", "continuous")


@dataclass(frozen=True)
class Term:
    """One candidate factor. ``name`` labels it in tables; ``column`` is the input column."""

    name: str
    column: str
    kind: str = "categorical"
    reference: object = None
    cutoff: float | None = None
    step: float = 1.0
    label: str | None = None
    levels: tuple = field(default=())

    def __post_init__(self):
        if self.kind not in KINDS:
            raise InputDataError(
                f"factor {self.name!r}: kind must be one of {KINDS}, got {self.kind!r}.",
                column=self.column,
            )
        if self.step is None or not self.step > 0:
            raise InputDataError(
                f"factor {self.name!r}: step must be > 0, got {self.step!r}.", column=self.column
            )

    @classmethod
    def from_dict(cls, d: dict) -> Term:
        d = dict(d)
        d.setdefault("column", d.get("name"))
        d.setdefault("name", d["column"])
        d.setdefault("step", 1.0)
        if d.get("step") is None:
            d["step"] = 1.0
        if "levels" in d and d["levels"] is not None:
            d["levels"] = tuple(d["levels"])
        else:
            d.pop("levels", None)
        return cls(**d)

    @property
    def display(self) -> str:
        return self.label or self.name

    @property
    def is_binary_cut(self) -> bool:
        return self.kind == "continuous" and self.cutoff is not None

    def columns(self) -> list[str]:
        """Names of the design columns of this term (after :func:`fit_terms`)."""
        if self.kind == "categorical":
            return [f"{self.name}[{lvl}]" for lvl in self.levels if lvl != self.reference]
        if self.is_binary_cut:
            return [f"{self.name}[>{self.cutoff:g}]"]
        if self.step != 1.0:
            return [f"{self.name}[per {self.step:g}]"]
        return [self.name]

    def level_labels(self) -> list[str]:
        """Human labels of the levels, reference first (empty for a linear continuous term)."""
        if self.kind == "categorical":
            return [str(self.reference)] + [str(v) for v in self.levels if v != self.reference]
        if self.is_binary_cut:
            return [f"<={self.cutoff:g}", f">{self.cutoff:g}"]
        return []


#: The fix for a column the nomogram's configuration names but the table lacks.
COLUMN_FIX = (
    "map the column name in conf/base/parameters_nomogram.yml "
    "(nomogram.candidate_factors / outcomes / signature) or add it to the table."
)


def _normalise_level(value):
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, np.generic):
        return _normalise_level(value.item())
    return value


def fit_terms(df: pd.DataFrame, terms) -> list[Term]:
    """Learn the levels of categorical terms on ``df`` (the training cohort)."""
    fitted = []
    for term in terms:
        require_columns(df, [term.column], name="analysis_table", fix=COLUMN_FIX)
        x = df[term.column]
        if term.kind == "categorical":
            seen = sorted({_normalise_level(v) for v in x.dropna().unique()}, key=str)
            levels = tuple(term.levels) if term.levels else tuple(seen)
            ref = term.reference if term.reference is not None else levels[0] if levels else None
            if ref is not None and _normalise_level(ref) not in {
                _normalise_level(v) for v in levels
            }:
                raise InputDataError(
                    f"factor {term.name!r}: reference level {ref!r} not among the levels "
                    f"{list(levels)} found in the training cohort.",
                    column=term.column,
                    fix="set `reference` to one of the existing levels.",
                )
            if len(levels) < 2:
                raise InputDataError(
                    f"factor {term.name!r} has fewer than 2 levels ({list(levels)}) in the "
                    "training cohort: it cannot enter a Cox model.",
                    column=term.column,
                    fix="remove it from nomogram.candidate_factors.",
                )
            levels = tuple(_normalise_level(v) for v in levels)
            ref = _normalise_level(ref)
            fitted.append(replace(term, levels=levels, reference=ref))
        else:
            if not pd.api.types.is_numeric_dtype(x):
                raise InputDataError(
                    f"factor {term.name!r} is declared continuous but column holds "
                    f"non-numeric values (e.g. {x.dropna().iloc[:3].tolist()}).",
                    column=term.column,
                    fix="declare it `kind: categorical` or clean the column.",
                )
            fitted.append(term)
    return fitted


def encode(df: pd.DataFrame, terms) -> pd.DataFrame:
    """Design matrix (float columns, index of ``df``) of fitted ``terms``."""
    out = {}
    for term in terms:
        require_columns(df, [term.column], name="analysis_table", fix=COLUMN_FIX)
        x = df[term.column]
        if term.kind == "categorical":
            values = x.map(_normalise_level)
            unknown = set(values.dropna().unique()) - set(term.levels)
            if unknown:
                raise InputDataError(
                    f"factor {term.name!r} has level(s) {sorted(map(str, unknown))} not seen in "
                    f"the training cohort (levels {list(term.levels)}).",
                    column=term.column,
                    fix="recode those values to a training level.",
                )
            for lvl, col in zip(
                [lv for lv in term.levels if lv != term.reference], term.columns(), strict=True
            ):
                out[col] = np.where(values.isna(), np.nan, (values == lvl).astype(float))
        elif term.is_binary_cut:
            v = x.astype(float)
            out[term.columns()[0]] = np.where(v.isna(), np.nan, (v > term.cutoff).astype(float))
        else:
            out[term.columns()[0]] = x.astype(float).to_numpy() / term.step
    return pd.DataFrame(out, index=df.index)


def term_columns(terms) -> dict[str, list[str]]:
    """``{term name: [design columns]}`` in term order."""
    return {t.name: t.columns() for t in terms}
