"""Benchmark of the `ingest` index: files/s (header-only) and peak memory vs number of files.

Generates DICOM trees of several sizes (small 16x16 CT slices: 40 slices per series, 4 series
per study, one study per patient, plus one non-DICOM file per patient) in a temporary folder,
then indexes each tree in a fresh subprocess with :func:`hcc_nomogram.ingest.index.index_files`
(``pydicom.dcmread(stop_before_pixels=True)``), twice: without and with the per-file cache.
Reports files/s, how much the process's peak RSS grew while indexing, the in-memory size of
the resulting per-file table, and the peak RSS (interpreter, pandas and pydicom included).
Memory should grow like the table itself (a few hundred bytes per file), not with the files'
pixel data.

Not a test; run it by hand::

    .venv/bin/python benchmarks/ingest_benchmark.py                      # 1250, 2500, 5000 files
    .venv/bin/python benchmarks/ingest_benchmark.py --sizes 5000 10000
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import SimpleITK as sitk
from pydicom.uid import generate_uid

from hcc_nomogram.demo.dicom_export import ct_datasets, write_series

SLICES, SERIES = 40, 4


def write_tree(root: Path, n_files: int) -> int:
    """About ``n_files`` DICOM files under ``root`` (patients/series/slices); returns the count.
    Headers come from :func:`hcc_nomogram.demo.dicom_export.ct_datasets`, the demo export's
    writer, on a small 16 x 16 x SLICES volume."""
    volume = sitk.Image([16, 16, SLICES], sitk.sitkInt16)
    volume.SetSpacing((0.7, 0.7, 2.5))
    written, p = 0, 0
    descriptions = ["Arterial", "Portal venous", "Delayed", "Native"]
    while written < n_files:
        patient, study, frame = f"BENCH{p:05d}", generate_uid(), generate_uid()
        for s, description in enumerate(descriptions[:SERIES]):
            series = ct_datasets(
                volume,
                patient_id=patient,
                study_uid=study,
                frame_uid=frame,
                description=description,
                series_number=s + 1,
                acquisition_time=f"1015{s:02d}",
            )
            written += len(write_series(series, root / patient / f"S{s}", suffix=""))
        (root / patient / "notes.txt").write_text("not DICOM\n")
        p += 1
    return written


def _measure(root: str, cache: str | None) -> dict:
    """Index ``root`` in this process (run in a subprocess: peak RSS is per process)."""
    import resource

    import pandas as pd

    from hcc_nomogram.ingest.index import index_files

    cached = pd.read_parquet(cache) if cache else None
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t0 = time.perf_counter()
    files, counts = index_files(root, cached, progress_every=10**9)
    seconds = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if not cache:
        files.to_parquet(Path(root).parent / "cache.parquet")
    return {
        "files": counts["files"],
        "files_per_s": counts["files"] / seconds,
        "rss_growth_mb": after - before,
        "table_mb": files.memory_usage(deep=True).sum() / 2**20,
        "peak_rss_mb": after,
    }


def _run(root: Path, cache: Path | None) -> dict:
    args = (str(Path(__file__).parent), str(root), str(cache) if cache else None)
    code = (
        "import json, sys; sys.path.insert(0, {!r}); from ingest_benchmark import _measure; "
        "print(json.dumps(_measure({!r}, {!r})))"
    ).format(*args)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1250, 2500, 5000])
    args = parser.parse_args()
    print(
        f"{'files':>7} {'cache':>5} {'files/s':>9} {'RSS growth MB':>14} {'table MB':>9} "
        f"{'peak RSS MB':>12}"
    )
    for size in args.sizes:
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp) / "export"
            write_tree(root, size)
            for cache in (None, Path(tmp) / "cache.parquet"):
                r = _run(root, cache)
                print(
                    f"{r['files']:>7} {'yes' if cache else 'no':>5} {r['files_per_s']:>9.0f} "
                    f"{r['rss_growth_mb']:>14.1f} {r['table_mb']:>9.1f} {r['peak_rss_mb']:>12.0f}"
                )


if __name__ == "__main__":
    main()
