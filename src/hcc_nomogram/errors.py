"""Exception types. Every message names *who* (patient), *where* (file/column), *what* went
wrong and *how to fix it*, in the style of PyRadiomics' "potential fix" messages."""

from __future__ import annotations


class HccNomogramError(Exception):
    """Base class of all errors raised by hcc-nomogram."""


def format_problem(problem: str, *, patient=None, file=None, column=None, fix=None) -> str:
    parts = []
    if patient is not None:
        parts.append(f"patient {patient!s}")
    if file is not None:
        parts.append(f"file {file!s}")
    if column is not None:
        parts.append(f"column {column!r}")
    where = f"[{'; '.join(parts)}] " if parts else ""
    msg = f"{where}{problem}"
    if fix:
        msg += f" Potential fix: {fix}"
    return msg


class InputDataError(HccNomogramError, ValueError):
    """Bad input data: missing file, unreadable image, wrong geometry, missing column..."""

    def __init__(self, problem: str, *, patient=None, file=None, column=None, fix=None):
        self.patient = patient
        self.file = file
        self.column = column
        self.problem = problem
        self.fix = fix
        super().__init__(
            format_problem(problem, patient=patient, file=file, column=column, fix=fix)
        )


class ImageGeometryError(InputDataError):
    """An image and its mask (or two images that must match) differ in geometry."""


class EmptyMaskError(InputDataError):
    """A tumour mask has no voxel with the configured label."""


class SurvivalDataError(HccNomogramError, ValueError):
    """Survival outcome unusable: too few events, negative times, all censored..."""


class ModelFitError(HccNomogramError, RuntimeError):
    """A model did not converge, or produced non-finite estimates."""


def require_columns(
    table, columns, *, name: str, fix: str, error: type[InputDataError] = InputDataError, **where
) -> None:
    """The one column check: raise ``error`` naming the table, the missing columns and the fix
    (``where``: ``file=`` / ``patient=`` of the error)."""
    missing = [c for c in dict.fromkeys(columns) if c not in table.columns]
    if missing:
        present = [str(c) for c in table.columns]
        shown = present[:30] + (["..."] if len(present) > 30 else [])
        raise error(
            f"{name} has no column {missing[0]!r} (missing columns {missing}; it has {shown}).",
            column=", ".join(map(str, missing)),
            fix=fix,
            **where,
        )
