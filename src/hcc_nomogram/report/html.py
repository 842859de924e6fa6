"""The self-contained HTML report: Plotly JS inlined once, no CDN, opens offline.

A report is a list of :class:`Section`; each section holds ordered blocks (text, tables,
figures). :func:`render_report` returns the whole document as a string (no I/O).
"""

from __future__ import annotations

import html as _html
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import plotly.graph_objects as go
from plotly.offline import get_plotlyjs

#: Put in every report: collects uncaught JavaScript errors into a DOM element, so a headless
#: browser test (``--dump-dom``) can read them back.
ERROR_COLLECTOR = """
window.__reportErrors = [];
window.addEventListener('error', function (e) {
  window.__reportErrors.push(String(e.message || e));
  var el = document.getElementById('report-js-errors');
  if (el) { el.textContent = window.__reportErrors.join('\\n'); \
el.dataset.count = window.__reportErrors.length; }
});
"""

RENDER_CHECK = """
window.addEventListener('load', function () {
  var figs = document.querySelectorAll('.report-figure .plotly-graph-div');
  var done = 0;
  figs.forEach(function (f) { if (f.querySelector('.main-svg')) { done += 1; \
f.closest('.report-figure').dataset.rendered = 'yes'; } });
  document.body.dataset.figuresRendered = done + '/' + figs.length;
});
"""

CSS = """
body { font-family: -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif; margin: 0 auto;
       max-width: 1200px; padding: 0 24px 48px; color: #222; }
h1 { margin-top: 24px; } \
h2 { border-bottom: 2px solid #1f77b4; padding-bottom: 4px; margin-top: 40px; }
nav ul { columns: 3; font-size: 14px; }
table.report-table { border-collapse: collapse; font-size: 13px; margin: 12px 0; }
table.report-table th, table.report-table td { \
border: 1px solid #ccc; padding: 3px 8px; text-align: left; }
table.report-table th { background: #e8eef7; }
.banner { background: #b00020; color: #fff; padding: 16px 20px; font-size: 18px; font-weight: 700;
          border-radius: 4px; margin: 16px 0; }
.note { color: #555; font-size: 14px; }
.section-error { background: #fff4e5; border-left: 4px solid #ff9800; padding: 8px 12px; }
#report-js-errors { display: none; }
"""


@dataclass
class Section:
    """One report section: an anchor id, a title and ordered HTML blocks."""

    id: str
    title: str
    blocks: list[str] = field(default_factory=list)

    def text(self, text: str, *, cls: str = "note") -> Section:
        self.blocks.append(f'<p class="{cls}">{_html.escape(text)}</p>')
        return self

    def html(self, raw_html: str) -> Section:
        self.blocks.append(raw_html)
        return self

    def table(
        self,
        frame: pd.DataFrame,
        *,
        caption: str = "",
        index: bool = False,
        float_format: str = "{:.3f}",
    ) -> Section:
        self.blocks.append(
            table_html(frame, caption=caption, index=index, float_format=float_format)
        )
        return self

    def figure(self, fig: go.Figure, *, name: str, caption: str = "") -> Section:
        self.blocks.append(figure_html(fig, name=name, caption=caption))
        return self

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "blocks": list(self.blocks)}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Section:
        return cls(id=d["id"], title=d["title"], blocks=list(d["blocks"]))


def table_html(
    frame: pd.DataFrame, *, caption: str = "", index: bool = False, float_format: str = "{:.3f}"
) -> str:
    body = frame.to_html(
        index=index,
        classes="report-table",
        border=0,
        na_rep="",
        float_format=float_format.format,
        escape=True,
    )
    cap = f"<p><b>{_html.escape(caption)}</b></p>" if caption else ""
    return cap + body


def figure_html(fig: go.Figure, *, name: str, caption: str = "") -> str:
    div = fig.to_html(
        full_html=False,
        include_plotlyjs=False,
        div_id=f"fig-{name}",
        config={"displaylogo": False, "responsive": True},
    )
    cap = f'<p class="note">{_html.escape(caption)}</p>' if caption else ""
    return f'<div class="report-figure" data-figure="{_html.escape(name)}">{div}{cap}</div>'


def banner_html(message: str) -> str:
    return f'<div class="banner" role="alert">&#9888; {_html.escape(message)}</div>'


def render_report(
    sections: Sequence[Section | Mapping[str, Any]],
    *,
    title: str,
    banners: Iterable[str] = (),
    subtitle: str = "",
) -> str:
    """The full HTML document; Plotly's JS is inlined exactly once in ``<head>``."""
    secs = [s if isinstance(s, Section) else Section.from_dict(s) for s in sections]
    nav = "".join(f'<li><a href="#{s.id}">{_html.escape(s.title)}</a></li>' for s in secs)
    body = "\n".join(
        f'<section id="{s.id}" class="report-section"><h2>{_html.escape(s.title)}</h2>\n'
        + "\n".join(s.blocks)
        + "</section>"
        for s in secs
    )
    banner = "".join(banner_html(b) for b in banners)
    sub = f'<p class="note">{_html.escape(subtitle)}</p>' if subtitle else ""
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{_html.escape(title)}</title><style>{CSS}</style>"
        f"<script>{ERROR_COLLECTOR}</script>"
        f'<script type="text/javascript">{get_plotlyjs()}</script></head>\n'
        f"<body>{banner}<h1>{_html.escape(title)}</h1>{sub}<nav><ul>{nav}</ul></nav>\n{body}\n"
        '<pre id="report-js-errors" data-count="0"></pre>'
        f"<script>{RENDER_CHECK}</script></body></html>\n"
    )
