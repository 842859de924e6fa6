"""Time report generation on synthetic inputs (no upstream run needed).

    .venv/bin/python benchmarks/report_benchmark.py [--patients 120] [--repeat 3]

Prints the median wall time of: building the figures and sections, rendering the HTML, and
the static PNGs (kaleido + Chromium; reported unavailable without a browser).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1] / "tests" / "report"))

import synthetic as S  # noqa: E402

from hcc_nomogram.report import sections  # noqa: E402
from hcc_nomogram.report.html import render_report  # noqa: E402
from hcc_nomogram.report.provenance import provenance_section  # noqa: E402
from hcc_nomogram.report.static import NoBrowserError, figures_to_images  # noqa: E402


def build(n: int):
    figs, secs = {}, []
    for f, s in (
        sections.cohort_section(S.clinical(n), S.CONTRACT),
        sections.preprocessing_section(
            S.preprocessing_qc(6),
            S.crops_partitions(6),
            phases=["arterial", "portal"],
            delineation="r1a",
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


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--patients", type=int, default=120)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    t_build, (figs, secs, banners) = timed(lambda: build(args.patients), args.repeat)
    t_html, html = timed(lambda: render_report(secs, title="bench", banners=banners), args.repeat)
    print(f"figures + sections ({len(figs)} figures, {args.patients} patients): {t_build:.2f} s")
    print(f"HTML render: {t_html:.2f} s, {len(html) / 1e6:.1f} MB")
    try:
        t, _ = timed(lambda: figures_to_images(figs, width=1000), 1)
        print(f"static PNGs (kaleido): {t:.2f} s")
    except NoBrowserError as exc:
        print(f"static PNGs (kaleido): unavailable ({exc})")


if __name__ == "__main__":
    main()
