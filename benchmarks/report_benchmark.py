"""Time report generation on synthetic inputs (no upstream run needed).

    .venv/bin/python benchmarks/report_benchmark.py [--patients 120] [--repeat 3]

Prints the median wall time of: building the figures and sections, rendering the HTML, and
the static PNGs (kaleido + Chromium; reported unavailable without a browser). Then runs the
whole reporting pipeline once (the tests' synthetic upstream outputs, the real catalog, written
under a temporary folder; the DenseNet rebuild replaced as in the tests) and prints each node's
wall time, the total, and how many figures were turned into HTML and into PNG (to check that
each figure is rendered once per run).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1] / "tests" / "report"))

import synthetic as S  # noqa: E402
from node_timer import NodeTimer  # noqa: E402

from hcc_nomogram.parameters import DataContract, typed  # noqa: E402
from hcc_nomogram.report import sections  # noqa: E402
from hcc_nomogram.report.html import render_report  # noqa: E402
from hcc_nomogram.report.provenance import provenance_section  # noqa: E402
from hcc_nomogram.report.static import NoBrowserError, figures_to_images  # noqa: E402


def build(n: int):
    figs, secs = {}, []
    for f, s in (
        sections.cohort_section(S.clinical(n), typed(DataContract, S.CONTRACT)),
        sections.preprocessing_section(
            S.preprocessing_qc(6),
            S.crops_partitions(6),
            typed(DataContract, S.CONTRACT),
        ),
        sections.reproducibility_section(
            {"arterial": S.icc_table_deep("arterial", 1), "portal": S.icc_table_deep("portal", 2)},
            threshold=0.75,
        ),
    ):
        figs.update(f)
        secs.append(s)
    prov, banners = provenance_section(S.provenance(), {}, {"numpy": "x"})
    return figs, [*secs, prov], banners


def timed(fn, repeat: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def count_calls(module, name: str, counter: Counter) -> None:
    """Count calls of ``module.name`` (the real function still runs)."""
    real = getattr(module, name)

    def counted(fig, *args, **kwargs):
        counter[name] += 1
        return real(fig, *args, **kwargs)

    setattr(module, name, counted)


def pipeline_run() -> None:
    import plotly.io
    from conftest import FakeExtractor, synthetic_catalog, synthetic_pipeline
    from kedro.io import MemoryDataset
    from kedro.runner import SequentialRunner

    from hcc_nomogram.pipelines.reporting.pipeline import SECTION_FIGURES
    from hcc_nomogram.report import html, static

    calls: Counter = Counter()
    count_calls(html.go.Figure, "to_html", calls)
    count_calls(static.go.Figure, "to_image", calls)
    timer = NodeTimer()
    hooks = timer.hook_manager()
    with tempfile.TemporaryDirectory() as tmp:
        catalog = synthetic_catalog(Path(tmp))
        # the PNGs as a default run makes them (the tests' settings may turn them off)
        reporting = {k: v for k, v in S.REPORTING.items() if k.startswith(("n_", "image"))}
        catalog["params:reporting"] = MemoryDataset(reporting, copy_mode="assign")
        catalog["report_cam_extractor"] = MemoryDataset(FakeExtractor(), copy_mode="assign")
        t0 = time.perf_counter()
        SequentialRunner().run(synthetic_pipeline(), catalog, hook_manager=hooks)
        total = time.perf_counter() - t0
        files = sorted(Path(tmp).rglob("figures/*.json/*/*.json"))
        t0 = time.perf_counter()
        for path in files:
            plotly.io.read_json(path)
        reload = time.perf_counter() - t0
    for name, seconds in sorted(timer.seconds.items(), key=lambda kv: -kv[1]):
        print(f"  {name:40s} {seconds:7.2f} s")
    print(f"reporting pipeline: {total:.2f} s")
    print(f"rebuilding the {len(files)} figures from their JSON files (avoided): {reload:.2f} s")
    n_figures = sum(len(f) for f in SECTION_FIGURES.values())
    for what in ("to_html", "to_image"):
        print(f"Figure.{what}: {calls[what]} calls for {n_figures} report figures")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--patients", type=int, default=120)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--pipeline-only", action="store_true", help="only the pipeline run")
    args = ap.parse_args()
    if args.pipeline_only:
        pipeline_run()
        return
    t_build, (figs, secs, banners) = timed(lambda: build(args.patients), args.repeat)
    t_html, html = timed(lambda: render_report(secs, title="bench", banners=banners), args.repeat)
    print(f"figures + sections ({len(figs)} figures, {args.patients} patients): {t_build:.2f} s")
    print(f"HTML render: {t_html:.2f} s, {len(html) / 1e6:.1f} MB")
    try:
        t, _ = timed(lambda: figures_to_images(figs, width=1000), 1)
        print(f"static PNGs (kaleido): {t:.2f} s")
    except NoBrowserError as exc:
        print(f"static PNGs (kaleido): unavailable ({exc})")
    pipeline_run()


if __name__ == "__main__":
    main()
