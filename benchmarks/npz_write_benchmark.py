"""Benchmark of the crop archives: write time per patient and file size per zlib level.

The run's client writes every patient's crops (``NpzDataset``) while the workers make the
next patients', so on a small machine this CPU is taken from them. For each level the script
rewrites the same patients' crops with ``NpzDataset(compress_level=...)`` (level 6 is the
bytes of ``np.savez_compressed``), best of ``--repeats`` passes, and prints ms per patient and
the files' size as a share of the raw arrays.

Not a test; run it by hand after ``kedro run --pipelines=preprocessing``::

    .venv/bin/python benchmarks/npz_write_benchmark.py --crops-dir data/03_primary/crops
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from hcc_nomogram.datasets import NpzDataset


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--crops-dir", type=Path, default=Path("data/03_primary/crops"))
    parser.add_argument("--patients", type=int, default=40)
    parser.add_argument("--levels", type=int, nargs="+", default=[0, 1, 6])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    files = sorted(args.crops_dir.glob("*.npz"))[: args.patients]
    if not files:
        raise SystemExit(f"no .npz crops in {args.crops_dir}: run the preprocessing pipeline.")
    crops = [NpzDataset(str(f)).load() for f in files]
    raw = sum(a.nbytes for c in crops for a in c.values())
    print(
        f"{len(crops)} patients from {args.crops_dir}, {raw / len(crops) / 1024:.0f} KiB raw each"
    )
    print(f"{'level':>5s} {'ms/patient':>11s} {'size / raw':>11s}")
    with tempfile.TemporaryDirectory() as tmp:
        for level in args.levels:
            best, size = float("inf"), 0
            for _ in range(args.repeats):
                t0 = time.perf_counter()
                for i, c in enumerate(crops):
                    NpzDataset(f"{tmp}/{i}.npz", compress_level=level).save(c)
                best = min(best, time.perf_counter() - t0)
                size = sum(p.stat().st_size for p in Path(tmp).glob("*.npz"))
            print(f"{level:5d} {1000 * best / len(crops):11.1f} {size / raw:11.3f}")


if __name__ == "__main__":
    main()
