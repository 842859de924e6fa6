"""The interactive nomogram calculator: one self-contained, offline HTML page (inline JS).

:func:`model_spec` freezes a :class:`~hcc_nomogram.stats.nomogram.NomogramModel` into plain
numbers, and the page's script recomputes, from the factor values a user picks, exactly what
the ``predict`` pipeline computes (:meth:`NomogramModel.predict_lp` and friends):

* linear predictor ``lp = sum_j x_j * beta_j`` over the model's design columns (in
  ``fit.covariates`` order), with ``x_j`` the training encoding of :func:`stats.design.encode`:
  ``1`` if the level is ``j``'s level (categorical), ``1`` if ``value > cutoff`` (binary cut),
  ``value / step`` (linear term); uncentred, so the reference patient has ``lp = 0``;
* total points ``(lp - lp_at_zero_points) * points_per_lp`` (the rms::nomogram scale);
* survival ``S(t) = S0(t) ** exp(lp)`` with the Breslow baseline ``S0`` read at each horizon;
* risk group ``high`` when ``lp > lp_cutoff`` (the training median LP), else ``low``.

HIGHER linear predictor / points = HIGHER hazard = WORSE survival. Numbers travel as JSON
(shortest round-trip decimal of each float64), so the page works on the same doubles as numpy.
Numeric inputs show the range seen in the training cohort and warn outside it, like the
``predict`` pipeline's guard rails; beyond ``out_of_range_margin`` x the range's width on either
side, the page applies ``predict.on_out_of_range`` as the predict pipeline does: ``refuse``
withholds the model's numbers (risk group "not given"), ``flag`` shows them with the risk group
marked "(out of range)".
"""

from __future__ import annotations

import base64
import html
import json
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from hcc_nomogram.errors import require_columns
from hcc_nomogram.parameters import PredictParams
from hcc_nomogram.report.errors import ReportInputError, run_first
from hcc_nomogram.report.html import Section
from hcc_nomogram.stats.design import Term
from hcc_nomogram.stats.nomogram import NomogramModel

#: Printed digits of each output; the browser test compares the page with Python's formatting.
TITLE = "HCC nomogram calculator"
DIGITS = {"total_points": 1, "linear_predictor": 4, "survival_percent": 1, "lp_cutoff": 4}


def model_spec(model: NomogramModel, horizons: Sequence[float]) -> dict[str, Any]:
    """The model as plain numbers for the page (or ``available: False`` with the reason)."""
    if not model.available or model.fit is None:
        return {"name": model.name, "available": False, "reason": model.reason}
    by_column = {c: t for t in model.terms for c in t.columns()}
    columns = []
    for covariate, coef in zip(model.fit.covariates, model.fit.coef, strict=True):
        term: Term = by_column[covariate]
        entry = {"covariate": covariate, "coef": float(coef), "input": term.column}
        if term.kind == "categorical":
            levels = [lv for lv in term.levels if lv != term.reference]
            entry |= {"encoding": "level", "level": str(levels[term.columns().index(covariate)])}
        elif term.is_binary_cut:
            entry |= {"encoding": "above", "cutoff": float(term.cutoff)}
        else:
            entry |= {"encoding": "per_step", "step": float(term.step)}
        columns.append(entry)
    horizons = [float(h) for h in horizons]
    return {
        "name": model.name,
        "available": True,
        "columns": columns,
        "factors": [t.display for t in model.terms],
        "points_per_lp": float(model.points_per_lp),
        "lp_at_zero_points": float(model.lp_at_zero_points),
        "lp_cutoff": float(model.lp_cutoff),
        "horizons": horizons,
        "baseline_survival": [float(s) for s in model.fit.baseline_survival(horizons)],
        "time_unit": model.time_unit,
    }


def input_specs(models: Sequence[NomogramModel], training: pd.DataFrame) -> list[dict[str, Any]]:
    """One input per clinical column any available model uses, in first-use order.

    Categorical: the training levels (reference first). Numeric: the ``[min, max]`` of the
    column in ``training`` (the range the ``predict`` pipeline warns outside of).
    """
    inputs: dict[str, dict[str, Any]] = {}
    for model in models:
        if not model.available:
            continue
        for term in model.terms:
            if term.column in inputs:
                continue
            require_columns(
                training,
                [term.column],
                error=ReportInputError,
                name=f"`analysis_table` (used by the {model.name} nomogram)",
                fix=f"load the analysis_table of the training run; {run_first('analysis_table')}",
            )
            spec = {"column": term.column, "label": term.display}
            if term.kind == "categorical":
                spec |= {"kind": "categorical", "levels": [str(v) for v in term.level_labels()]}
            else:
                seen = pd.to_numeric(training[term.column], errors="coerce").dropna()
                spec |= {"kind": "numeric", "min": float(seen.min()), "max": float(seen.max())}
                if term.is_binary_cut:
                    spec["note"] = f"enters the model as > {term.cutoff:g}"
                elif term.step != 1.0:
                    spec["note"] = f"hazard ratio per {term.step:g}"
            inputs[term.column] = spec
    return list(inputs.values())


def _json_for_script(value: Any) -> str:
    """JSON safe inside ``<script>``: no ``</`` and no ``<!--``."""
    return json.dumps(value, allow_nan=False).replace("</", "<\\/").replace("<!--", "<\\!--")


CSS = """
body { font-family: -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif; margin: 0 auto;
       max-width: 1040px; padding: 0 20px 32px; color: #222; }
h1 { font-size: 24px; margin: 16px 0 4px; } \
h2 { font-size: 17px; border-bottom: 2px solid #1f77b4; }
.banner { background: #b00020; color: #fff; padding: 10px 14px; font-weight: 700;
          border-radius: 4px; margin: 10px 0; }
.note { color: #555; font-size: 13px; }
.layout { display: flex; gap: 28px; flex-wrap: wrap; }
table { border-collapse: collapse; font-size: 14px; }
td, th { border: 1px solid #ccc; padding: 4px 8px; text-align: left; } th { background: #e8eef7; }
.out { font-variant-numeric: tabular-nums; }
.range-warning { color: #b35c00; font-size: 12px; font-weight: 700; }
.high { color: #b00020; font-weight: 700; } .low { color: #1b7f3b; font-weight: 700; }
input, select { font-size: 14px; padding: 2px 4px; }
"""

SCRIPT = r"""
(function () {
  var data = JSON.parse(document.getElementById('calculator-data').textContent);
  function fixed(x, d) { return isFinite(x) ? x.toFixed(d) : ''; }
  function readInputs() {
    var values = {}, warnings = [];
    data.inputs.forEach(function (spec) {
      var el = document.getElementById('input-' + spec.column);
      var warn = document.getElementById('warning-' + spec.column);
      var value = null;
      if (spec.kind === 'categorical') {
        value = el.value === '' ? null : el.value;
      } else if (el.value.trim() !== '') {
        value = Number(el.value);
        if (!isFinite(value)) { value = null; }
      }
      var outside = spec.kind === 'numeric' && value !== null &&
        !(spec.min <= value && value <= spec.max);
      var far = outside && isFar(spec, value);
      if (warn) {
        warn.textContent = !outside ? '' : (far ? 'far outside the training range [' + spec.min +
          ', ' + spec.max + ']: prediction ' + (data.out_of_range.mode === 'refuse' ?
          'withheld' : 'flagged') : 'outside the training range [' + spec.min + ', ' +
          spec.max + ']: interpret with caution');
      }
      el.dataset.outOfRange = outside ? 'yes' : 'no';
      if (outside) { warnings.push(spec.label + ' = ' + value + ' is outside the training range'); }
      values[spec.column] = value;
    });
    return {values: values, warnings: warnings};
  }
  function isFar(spec, value) {
    var slack = data.out_of_range.margin * (spec.max - spec.min);
    return !(spec.min - slack <= value && value <= spec.max + slack);
  }
  var specs = {};
  data.inputs.forEach(function (spec) { specs[spec.column] = spec; });
  function farInputs(model, values) {
    return model.columns.map(function (col) { return col.input; }).filter(function (c, i, all) {
      return all.indexOf(c) === i && specs[c].kind === 'numeric' && isFar(specs[c], values[c]);
    });
  }
  function encoded(col, value) {
    if (col.encoding === 'level') { return value === col.level ? 1 : 0; }
    if (col.encoding === 'above') { return value > col.cutoff ? 1 : 0; }
    return value / col.step;
  }
  function predict(model, values) {
    var lp = 0;
    for (var i = 0; i < model.columns.length; i++) {
      var col = model.columns[i];
      if (values[col.input] === null || values[col.input] === undefined) { return null; }
      lp += encoded(col, values[col.input]) * col.coef;
    }
    var risk = Math.exp(lp);
    return {
      linear_predictor: lp,
      total_points: (lp - model.lp_at_zero_points) * model.points_per_lp,
      survival: model.baseline_survival.map(function (s0) { return Math.pow(s0, risk); }),
      risk_group: lp > model.lp_cutoff ? 'high' : 'low'
    };
  }
  function show(id, value, text) {
    var el = document.getElementById(id);
    el.textContent = text;
    el.dataset.value = value === null ? '' : String(value);
  }
  function update() {
    var read = readInputs();
    var list = document.getElementById('warnings');
    list.textContent = read.warnings.join('; ');
    data.models.forEach(function (model) {
      if (!model.available) { return; }
      var p = predict(model, read.values);
      var m = model.name;
      var far = p === null ? [] : farInputs(model, read.values);
      if (p === null || (far.length && data.out_of_range.mode === 'refuse')) {
        ['total_points', 'linear_predictor'].forEach(function (k) { show(m + '-' + k, null, '-'); });
        model.horizons.forEach(function (h, j) { show(m + '-surv-' + j, null, '-'); });
        show(m + '-risk_group', null, p === null ? '-' : 'not given');
        document.getElementById(m + '-risk_group').className = 'out';
        return;
      }
      show(m + '-total_points', p.total_points, fixed(p.total_points, data.digits.total_points));
      show(m + '-linear_predictor', p.linear_predictor, fixed(p.linear_predictor, data.digits.linear_predictor));
      model.horizons.forEach(function (h, j) {
        show(m + '-surv-' + j, p.survival[j], fixed(100 * p.survival[j], data.digits.survival_percent) + '%');
      });
      var group = far.length ? p.risk_group + ' (out of range)' : p.risk_group;
      show(m + '-risk_group', group, group);
      document.getElementById(m + '-risk_group').className = 'out ' + p.risk_group;
    });
    document.body.dataset.updates = String(Number(document.body.dataset.updates || '0') + 1);
  }
  data.inputs.forEach(function (spec) {
    var el = document.getElementById('input-' + spec.column);
    el.addEventListener('input', update);
    el.addEventListener('change', update);
  });
  window.nomogramCalculatorUpdate = update;
  update();
  document.body.dataset.calculatorReady = 'yes';
})();
"""  # noqa: E501  JavaScript emitted verbatim: rewrapping it would change the calculator page


def _input_row(spec: Mapping[str, Any]) -> str:
    col = html.escape(spec["column"])
    label = html.escape(spec["label"])
    if spec["kind"] == "categorical":
        options = '<option value="">(choose)</option>' + "".join(
            f'<option value="{html.escape(v)}">{html.escape(v)}</option>' for v in spec["levels"]
        )
        field = f'<select id="input-{col}" name="{col}">{options}</select>'
        hint = "levels seen in training"
    else:
        field = f'<input id="input-{col}" name="{col}" type="text" inputmode="decimal" size="10">'
        hint = f"training range {spec['min']:g} to {spec['max']:g}"
        if spec.get("note"):
            hint += f"; {spec['note']}"
    return (
        f'<tr><th><label for="input-{col}">{label}</label><br><span class="note">'
        f'{html.escape(col)}</span></th><td>{field}<br><span class="note">{html.escape(hint)}'
        f'</span><br><span class="range-warning" id="warning-{col}"></span></td></tr>'
    )


def _output_table(models: Sequence[Mapping[str, Any]], horizons: Sequence[float]) -> str:
    avail = [m for m in models if m["available"]]
    head = "".join(f"<th>{html.escape(m['name'])} nomogram</th>" for m in avail)

    def row(label: str, key: str) -> str:
        cells = "".join(
            f'<td class="out" id="{html.escape(m["name"])}-{key}">-</td>' for m in avail
        )
        return f"<tr><th>{html.escape(label)}</th>{cells}</tr>"

    rows = [
        row("Total points", "total_points"),
        row("Linear predictor (higher = worse)", "linear_predictor"),
    ]
    rows += [
        row(f"Predicted survival at {h:g} months", f"surv-{j}") for j, h in enumerate(horizons)
    ]
    rows.append(row("Risk group (training median LP)", "risk_group"))
    cut = "".join(f"<td>{m['lp_cutoff']:.{DIGITS['lp_cutoff']}f}</td>" for m in avail)
    rows.append(f"<tr><th>Risk cut-off (LP)</th>{cut}</tr>")
    factors = "".join(f"<td>{html.escape(', '.join(m['factors']))}</td>" for m in avail)
    rows.append(f"<tr><th>Factors</th>{factors}</tr>")
    return f"<table><tr><th></th>{head}</tr>{''.join(rows)}</table>"


def calculator_page(
    models: Sequence[NomogramModel],
    training: pd.DataFrame,
    *,
    horizons: Sequence[float],
    banner: str | None = None,
    guard: PredictParams | None = None,
) -> str:
    """The calculator as one complete HTML document (no network access, inline JS).

    ``training``: the training cohort's rows (numeric input ranges); ``banner``: the red
    warning (random DenseNet weights) shown above everything, as in the report;
    ``guard``: the predict pipeline's parameters, whose rule for inputs far outside the
    training range (``predict.on_out_of_range``, ``predict.out_of_range_margin``) it applies.
    """
    guard = guard or PredictParams()
    specs = [model_spec(m, horizons) for m in models]
    if not any(s["available"] for s in specs):
        raise ReportInputError(
            "no nomogram model is available, so the calculator has nothing to compute.",
            fix=run_first("clinical.nomogram_model"),
        )
    inputs = input_specs(models, training)
    data = {
        "models": specs,
        "inputs": inputs,
        "digits": DIGITS,
        "out_of_range": {"mode": guard.on_out_of_range, "margin": float(guard.out_of_range_margin)},
    }
    unavailable = "".join(
        f'<p class="note">{html.escape(s["name"])} nomogram: not available '
        f"({html.escape(s['reason'])}).</p>"
        for s in specs
        if not s["available"]
    )
    rows = "".join(_input_row(s) for s in inputs)
    return "\n".join(
        [
            "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
            f"<title>{TITLE}</title><style>{CSS}</style></head><body>",
            f'<div class="banner" role="alert">&#9888; {html.escape(banner)}</div>'
            if banner
            else "",
            f"<h1>{TITLE}</h1>",
            '<p class="note">Cox nomograms of Zhang et al., Front. Oncol. 2020;10:593292, '
            "reproduced with hcc-nomogram: the frozen models of this run. Pick each factor; the "
            "points, linear predictor, predicted overall survival and risk group update at once "
            "and equal the predict pipeline's. Higher points / linear predictor = higher hazard = "
            "worse. Works offline. Research use only; not a medical device.</p>",
            unavailable,
            '<div class="layout"><div><h2>Factors</h2>',
            f'<form id="calculator-form" onsubmit="return false"><table>{rows}</table></form>',
            "</div><div><h2>Prediction</h2>",
            _output_table(specs, horizons),
            '<p class="range-warning" id="warnings"></p></div></div>',
            '<script id="calculator-data" type="application/json">'
            f"{_json_for_script(data)}</script>",
            f"<script>{SCRIPT}</script>",
            "</body></html>\n",
        ]
    )


EMBED_SCRIPT = r"""
(function () {
  var holder = document.getElementById('calculator-embed');
  var bytes = Uint8Array.from(atob(holder.dataset.page), function (c) { return c.charCodeAt(0); });
  var page = new TextDecoder('utf-8').decode(bytes);
  document.getElementById('calculator-frame').srcdoc = page;
  var link = document.getElementById('calculator-open');
  link.href = URL.createObjectURL(new Blob([page], {type: 'text/html'}));
  holder.dataset.loaded = 'yes';
})();
"""


def calculator_section(page: str, *, dataset: str = "nomogram_calculator") -> Section:
    """Report section ``calculator``: the page embedded (base64, no network) and a link that
    opens it alone in a new tab; the same page is the versioned catalog dataset ``dataset``."""
    encoded = base64.b64encode(page.encode("utf-8")).decode("ascii")
    sec = Section("calculator", "Interactive nomogram calculator")
    sec.text(
        "Pick the factors of one patient and read the total points, linear predictor, "
        "predicted overall survival at the nomogram's horizons and risk group of both "
        "nomograms; the "
        "numbers equal the predict pipeline's (same frozen models, baseline survival, points "
        f"scale and risk cut-off). The page is also saved alone as the dataset `{dataset}` "
        f"(data/08_reporting/{dataset}.html/<version>/), to share or open offline."
    )
    sec.html(
        f'<p><a id="calculator-open" href="#" target="_blank" rel="noopener" '
        f'download="{dataset}.html">Open the calculator on its own page</a></p>'
        f'<div id="calculator-embed" data-page="{encoded}"></div>'
        '<iframe id="calculator-frame" title="nomogram calculator" '
        'style="width:100%;height:720px;border:1px solid #ccc"></iframe>'
        f"<script>{EMBED_SCRIPT}</script>"
    )
    return sec
