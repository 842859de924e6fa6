"""Drive the nomogram calculator page in headless Chromium: fill its fields for several
patients (``input`` / ``change`` events, as a user would) and read the outputs from the DOM."""

from __future__ import annotations

import html
import json
import math
from pathlib import Path

from browser import console_errors, dump_dom

HARNESS = """
<script>
(function () {
  var cases = JSON.parse(document.getElementById('harness-cases').textContent);
  function fill(values) {
    Object.keys(values).forEach(function (column) {
      var el = document.getElementById('input-' + column);
      el.value = values[column];
      el.dispatchEvent(new Event(el.tagName === 'SELECT' ? 'change' : 'input'));
    });
  }
  function read(ids) {
    var out = {};
    ids.forEach(function (id) {
      var el = document.getElementById(id);
      out[id] = {text: el.textContent, value: el.dataset.value};
    });
    return out;
  }
  var results = cases.patients.map(function (p) {
    fill(p.values); return {id: p.id, cells: read(cases.cells)};
  });
  var extremes = (cases.extremes || []).map(function (values) {
    fill(values);
    var flags = {};
    Object.keys(values).forEach(function (column) {
      flags[column] = {flag: document.getElementById('input-' + column).dataset.outOfRange,
                       warning: document.getElementById('warning-' + column).textContent};
    });
    return {flags: flags, cells: read(cases.cells)};
  });
  var pre = document.createElement('pre');
  pre.id = 'harness-results';
  pre.textContent = JSON.stringify({results: results, extremes: extremes});
  document.body.appendChild(pre);
})();
</script>
"""

OUTPUTS = ("total_points", "linear_predictor", "surv-0", "surv-1", "surv-2", "risk_group")


def fill_and_read(
    page: str, patients: list[dict], models: list[str], folder: Path, extremes: list[dict] = ()
) -> dict:
    """``patients``: ``[{"id": .., "values": {column: text}}]``; ``extremes``: ``[{column:
    text}]`` filled one after the other at the end; returns ``{"results": [{"id", "cells":
    {"<model>-<output>": {"text", "value"}}}], "extremes": [{"flags": {column: {flag,
    warning}}, "cells": ...}]}``."""
    cases = json.dumps(
        {
            "patients": patients,
            "extremes": list(extremes),
            "cells": [f"{m}-{k}" for m in models for k in OUTPUTS],
        }
    )
    path = folder / "calculator_under_test.html"
    path.write_text(
        page.replace(
            "</body>",
            f'<script id="harness-cases" type="application/json">{cases}</script>{HARNESS}</body>',
        ),
        encoding="utf-8",
    )
    dom, stderr = dump_dom(path.as_uri(), budget_ms=5000)
    assert console_errors(stderr) == [], stderr[-2000:]
    start = dom.index('<pre id="harness-results">') + len('<pre id="harness-results">')
    return json.loads(html.unescape(dom[start : dom.index("</pre>", start)]))


def printed(prediction, horizons) -> dict[str, str]:
    """What the page must print for one prediction row, formatted here (Python's rounding);
    "-" where the prediction was withheld (NaN)."""

    def fmt(value: float, spec: str, suffix: str = "") -> str:
        return "-" if math.isnan(value) else f"{value:{spec}}{suffix}"

    out = {
        "total_points": fmt(prediction["total_points"], ".1f"),
        "linear_predictor": fmt(prediction["linear_predictor"], ".4f"),
        "risk_group": str(prediction["risk_group"]),
    }
    for j, h in enumerate(horizons):
        out[f"surv-{j}"] = fmt(100 * prediction[f"surv_{h:g}"], ".1f", "%")
    return out
