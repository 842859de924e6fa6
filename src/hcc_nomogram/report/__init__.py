"""Report library: plot functions that return Plotly figures, and the self-contained HTML report.

Plot functions take plain DataFrames / arrays, do no I/O and never touch the catalog; the
``reporting`` pipeline (``hcc_nomogram.pipelines.reporting``) wires them to catalog datasets.
"""

from hcc_nomogram.report.errors import ReportInputError, require_columns, require_input

__all__ = ["ReportInputError", "require_columns", "require_input"]
