"""Checks of the tables of the data contract (manifest, clinical table, analysis table).

Each check names the column, the patients and the values at fault, and a fix
(:class:`~hcc_nomogram.errors.InputDataError`), instead of letting pandas raise a bare
``ValueError: could not convert string to float`` or, worse, carrying on:

* :func:`check_patient_ids` -- IDs are text compared exactly across tables, so an ID with
  leading/trailing whitespace (``"HCC0002 "``) would silently become a second patient;
* :func:`check_cohort_values` -- only ``training_value`` / ``validation_value`` are cohorts; any
  other value (``validaton``) would silently drop patients from the validation statistics;
* :func:`check_outcomes` -- survival time a non-negative number (``12,5`` with a decimal comma is
  refused with that fix), event coded 0/1;
* :func:`outcome_columns` -- the one lookup of an outcome's time / event columns in
  ``data_contract.outcomes``;
* :func:`cohort_rows` -- the one filter of a table to the training (or validation) cohort.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from hcc_nomogram.errors import InputDataError, SurvivalDataError

#: patients named in a message, at most
SHOWN = 10


def _some(values: Iterable) -> str:
    values = list(values)
    more = f" and {len(values) - SHOWN} more" if len(values) > SHOWN else ""
    return ", ".join(map(str, values[:SHOWN])) + more


def check_patient_ids(table: pd.DataFrame, id_column: str, *, source: str) -> None:
    """Raise when an ID is changed by stripping whitespace (``"HCC0002 "``)."""
    ids = table[id_column].dropna().astype(str)
    changed = ids[ids != ids.str.strip()]
    if len(changed):
        raise InputDataError(
            f"{len(changed)} patient ID(s) have leading or trailing whitespace: "
            f"{_some(repr(v) for v in changed)}; IDs are compared exactly across the manifest "
            "and the clinical table, so such an ID would become another patient.",
            patient=_some(changed.str.strip()),
            file=source,
            column=id_column,
            fix="remove the spaces (a spreadsheet cell often keeps a trailing one).",
        )


def check_cohort_values(
    table: pd.DataFrame,
    cohort_column: str,
    allowed: Iterable[str],
    id_column: str,
    *,
    source: str,
) -> None:
    """Raise when the cohort column holds a value other than ``allowed`` (or is empty)."""
    allowed = list(allowed)
    values = table[cohort_column]
    bad = ~values.astype(str).isin(allowed) | values.isna()
    if bad.any():
        shown = values[bad].astype(object).where(values[bad].notna(), "(empty)").astype(str)
        counts = shown.value_counts()
        listed = ", ".join(f"{v!r} ({n} patient(s))" for v, n in counts.items())
        raise InputDataError(
            f"unknown cohort value(s) {listed}; only {allowed} are cohorts. A misspelled "
            "value would silently leave these patients out of the training or validation "
            "statistics.",
            patient=_some(table.loc[bad, id_column]),
            file=source,
            column=cohort_column,
            fix="correct the values, or set data_contract.training_value / validation_value "
            "to the labels your table uses.",
        )


def outcome_columns(data_contract, key: str, setting: str) -> tuple[str, str]:
    """``(time column, event column)`` of outcome ``key`` in ``data_contract.outcomes`` (a
    mapping or the typed ``DataContract``); ``setting`` is the parameter that chose ``key``."""
    if hasattr(data_contract, "model_dump"):
        data_contract = data_contract.model_dump()
    outcomes = data_contract.get("outcomes", {})
    if key not in outcomes:
        raise InputDataError(
            f"{setting}={key!r} is not one of data_contract.outcomes ({sorted(outcomes)}).",
            fix=f"use one of those keys in {setting}, or add the outcome to "
            "data_contract.outcomes in conf/base/parameters.yml.",
        )
    return outcomes[key]["time"], outcomes[key]["event"]


def cohort_rows(
    table: pd.DataFrame, data_contract, *, validation: bool = False, column: str | None = None
) -> pd.DataFrame:
    """Rows of ``table`` in the training cohort (``validation``: the validation cohort): those
    whose cohort column (``data_contract.cohort_column``, or ``column`` where a table renamed
    it) equals ``data_contract.training_value`` (``validation_value``)."""
    value = data_contract.validation_value if validation else data_contract.training_value
    return table[table[column or data_contract.cohort_column] == value]


def check_outcomes(
    table: pd.DataFrame, time_column: str, event_column: str, id_column: str, *, source: str
) -> pd.DataFrame:
    """``table`` with numeric ``time_column`` (float) and ``event_column`` (0/1).

    Missing values are kept (the caller decides: complete cases, or an error). Raises
    :class:`~hcc_nomogram.errors.SurvivalDataError` naming patients and column for a time that
    is not a number or is negative, and for an event other than 0/1.
    """
    ids = table[id_column].astype(str)
    out = table.copy()
    for column in (time_column, event_column):
        raw = table[column]
        numeric = pd.to_numeric(raw, errors="coerce")
        bad = numeric.isna() & raw.notna()
        if bad.any():
            shown = [f"{p}: {v!r}" for p, v in zip(ids[bad], raw[bad], strict=True)]
            comma = raw[bad].astype(str).str.contains(",").any()
            raise SurvivalDataError(
                f"[file {source}; column {column!r}] non-numeric value(s) for patient(s) "
                f"{_some(shown)}. Potential fix: "
                + (
                    "use a point as decimal separator (12.5, not 12,5), or read the CSV with "
                    "load_args: {decimal: ','}."
                    if comma
                    else "give numbers only (months; event 1 = event, 0 = censored)."
                )
            )
        out[column] = numeric
    time = out[time_column]
    negative = time < 0
    if negative.any():
        shown = [f"{p}: {v:g}" for p, v in zip(ids[negative], time[negative], strict=True)]
        raise SurvivalDataError(
            f"[file {source}; column {time_column!r}] negative survival time for patient(s) "
            f"{_some(shown)}. Potential fix: the time runs from treatment start to event or "
            "last follow-up and cannot be negative; check the date arithmetic."
        )
    event = out[event_column]
    bad = event.notna() & ~event.isin([0, 1])
    if bad.any():
        shown = [f"{p}: {v:g}" for p, v in zip(ids[bad], event[bad], strict=True)]
        raise SurvivalDataError(
            f"[file {source}; column {event_column!r}] event must be 1 (event) or 0 (censored); "
            f"got {_some(shown)}. Potential fix: recode the column to 0/1."
        )
    out[event_column] = event.astype(float) if event.isna().any() else event.astype(np.int64)
    return out
