"""Static (PNG) copies of Plotly figures.

Preferred: kaleido 1.x, which drives a local Chrome/Chromium (one browser for the whole
batch). When no browser is available (``kaleido`` raises), each figure is redrawn with
matplotlib from the figure's own data: simpler styling, same content, and never a CDN or a
download. The function returns Pillow images; the catalog (``pillow.ImageDataset``) writes them.
"""

from __future__ import annotations

import base64
import io
import logging
import warnings
from collections.abc import Mapping

import numpy as np
import plotly.graph_objects as go
from PIL import Image

logger = logging.getLogger(__name__)


def figures_to_images(
    figures: Mapping[str, go.Figure],
    *,
    width: int = 1000,
    height: int | None = None,
    scale: float = 1.0,
    engine: str = "auto",
) -> dict[str, Image.Image]:
    """PNG images of ``figures``. ``engine``: ``"auto"`` (kaleido, else matplotlib),
    ``"kaleido"`` or ``"matplotlib"``."""
    if engine not in {"auto", "kaleido", "matplotlib"}:
        raise ValueError(f"engine must be auto, kaleido or matplotlib, not {engine!r}.")
    if engine in {"auto", "kaleido"}:
        try:
            return _kaleido_images(figures, width=width, height=height, scale=scale)
        except Exception as exc:
            if engine == "kaleido":
                raise
            logger.warning(
                "kaleido could not render static images (%s: %s); falling back "
                "to matplotlib. Install Chromium for identical PNGs.",
                type(exc).__name__,
                str(exc).splitlines()[0] if str(exc) else "",
            )
    return {
        name: matplotlib_image(fig, width=width, height=height) for name, fig in figures.items()
    }


def _kaleido_images(figures, *, width, height, scale) -> dict[str, Image.Image]:
    import kaleido

    out = {}
    kaleido.start_sync_server(silence_warnings=True)
    try:
        for name, fig in figures.items():
            h = height or int(fig.layout.height or 500)
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", message="The kopts argument is ignored")
                png = fig.to_image(format="png", width=width, height=h, scale=scale)
            out[name] = Image.open(io.BytesIO(png)).convert("RGB")
    finally:
        kaleido.stop_sync_server(silence_warnings=True)
    return out


def _array(values) -> np.ndarray:
    """Trace data as an array; decodes Plotly's typed-array spec ``{dtype, bdata, shape}``
    (what a deep-copied or JSON-loaded figure holds)."""
    if isinstance(values, dict) and "bdata" in values:
        arr = np.frombuffer(base64.b64decode(values["bdata"]), dtype=np.dtype(values["dtype"]))
        shape = values.get("shape")
        if shape:
            arr = arr.reshape(
                [int(v) for v in str(shape).split(",")] if isinstance(shape, str) else shape
            )
        return arr
    return np.asarray(values)


def _values(values) -> np.ndarray | list:
    """Trace coordinates as floats (None -> NaN, a gap) or, when categorical, as strings."""
    values = [] if values is None else list(_array(values))
    try:
        return np.array([np.nan if v is None else float(v) for v in values], dtype=float)
    except (TypeError, ValueError):
        return [str(v) for v in values]


def _axis_domain(layout, ref: str, letter: str) -> tuple[float, float]:
    name = f"{letter}axis{ref[1:]}"
    ax = getattr(layout, name, None) if hasattr(layout, name) else layout[name]
    dom = ax.domain if ax is not None and ax.domain is not None else (0, 1)
    return float(dom[0]), float(dom[1])


def matplotlib_image(
    fig: go.Figure, *, width: int = 1000, height: int | None = None, dpi: int = 100
) -> Image.Image:
    """Redraw a Plotly figure with matplotlib (scatter, bar, histogram, heatmap, contour);
    annotations other than titles are dropped."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    height = height or int(fig.layout.height or 500)
    mfig = Figure(figsize=(width / dpi, height / dpi), dpi=dpi)
    FigureCanvasAgg(mfig)
    axes: dict[tuple[str, str], object] = {}
    categories: dict[tuple[str, str], dict[str, int]] = {}  # categorical y values per axes
    for trace in fig.data:
        key = (trace.xaxis or "x", trace.yaxis or "y")
        if key not in axes:
            axes[key] = _new_axes(mfig, fig.layout, key)
        _draw_trace(axes[key], trace, categories.setdefault(key, {}))
    for a in axes.values():
        if a.get_legend_handles_labels()[0]:
            a.legend(fontsize=7)
    title = fig.layout.title.text if fig.layout.title and fig.layout.title.text else ""
    mfig.suptitle(title.split("<br>")[0].replace("<b>", "").replace("</b>", ""), fontsize=11)
    buf = io.BytesIO()
    mfig.savefig(buf, format="png")
    return Image.open(io.BytesIO(buf.getvalue())).convert("RGB")


def _new_axes(mfig, layout, key: tuple[str, str]):
    """Matplotlib axes at the Plotly axes' domain, with their visibility, scale, titles and
    ranges."""
    x0, x1 = _axis_domain(layout, key[0], "x")
    y0, y1 = _axis_domain(layout, key[1], "y")
    a = mfig.add_axes((0.08 + x0 * 0.88, 0.08 + y0 * 0.8, (x1 - x0) * 0.88, (y1 - y0) * 0.8))
    xa, ya = layout[f"xaxis{key[0][1:]}"], layout[f"yaxis{key[1][1:]}"]
    a.get_xaxis().set_visible(xa.visible is not False)
    a.get_yaxis().set_visible(ya.visible is not False)
    if xa.type == "log":
        a.set_xscale("log")
    if ya.autorange == "reversed":
        a.invert_yaxis()
    a.set_xlabel(xa.title.text or "")
    a.set_ylabel(ya.title.text or "")
    if xa.range is not None and xa.type != "log":
        a.set_xlim(*xa.range)
    if ya.range is not None:
        a.set_ylim(*ya.range)
    return a


def _draw_trace(a, trace, categories: dict[str, int]) -> None:
    if trace.type == "scatter":
        _draw_scatter(a, trace, categories)
    elif trace.type == "bar":
        if trace.orientation == "h":
            a.barh([str(v) for v in _array(trace.y)], _array(trace.x))
        else:
            a.bar([str(v) for v in _array(trace.x)], _array(trace.y))
    elif trace.type == "histogram":
        a.hist(_array(trace.x).astype(float), bins=40, alpha=0.6, label=trace.name)
    elif trace.type == "heatmap":
        a.imshow(
            _array(trace.z).astype(float),
            cmap="gray"
            if "gray" in str(trace.colorscale).lower() or trace.colorscale is None
            else "jet",
            alpha=trace.opacity if trace.opacity is not None else 1.0,
        )
    elif trace.type == "contour":
        a.contour(_array(trace.z).astype(float), levels=[0.5], colors="red")


def _draw_scatter(a, trace, cats: dict[str, int]) -> None:
    """Lines (steps for ``line_shape="hv"``), markers and text; categorical y values (the
    numbers-at-risk rows) become ticks."""
    colour = trace.line.color if trace.line is not None and trace.line.color else None
    x, y = _values(trace.x), _values(trace.y)
    if isinstance(y, list):
        y = np.array([cats.setdefault(v, len(cats)) for v in y], dtype=float)
        a.set_yticks(list(cats.values()), list(cats.keys()))
        a.set_ylim(-0.5, len(cats) - 0.5)
    if isinstance(x, list):
        x = np.arange(len(x), dtype=float)
    mode = trace.mode or "lines"
    if "text" in mode and trace.text is not None:
        for xi, yi, t in zip(x, y, trace.text):
            a.text(
                xi,
                yi,
                str(t),
                ha="center",
                va="center",
                fontsize=7,
                color=(trace.textfont.color if trace.textfont else None) or "black",
            )
    if "lines" in mode:
        a.plot(
            x,
            y,
            color=colour,
            drawstyle="steps-post" if trace.line.shape == "hv" else "default",
            label=trace.name if trace.showlegend is not False else None,
        )
    if "markers" in mode:
        a.plot(
            x,
            y,
            "o",
            ms=3,
            color=(trace.marker.color if isinstance(trace.marker.color, str) else colour),
        )
