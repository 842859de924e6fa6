"""`ingest` then `kedro run` on a DICOM export of a small demo cohort, end to end.

Writes a small demo cohort (64 x 64 voxels, 40 training + 20 validation patients), writes it
as a DICOM export (CT series, SEG r1a/r1b, RTSTRUCT r2, distractors; every second patient
RLE-compressed; :mod:`hcc_nomogram.demo.dicom_export`), lays out a throw-away project that reads
the export (``tests/project_helpers.make_project``), runs ``ingest``, compares every ingested CT
and mask with the demo's NIfTI original (voxels and geometry), then runs the default pipeline
on the ingested manifest (``--no-full`` skips it). Prints seconds per step.

Not a test; run it by hand::

    .venv/bin/python benchmarks/ingest_end_to_end.py                  # about 5 min on 2 cores
    .venv/bin/python benchmarks/ingest_end_to_end.py --no-full --folder /tmp/ingest_e2e
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import SimpleITK as sitk

from hcc_nomogram.demo import write_demo_cohort
from hcc_nomogram.demo.config import tiny_config
from hcc_nomogram.demo.dicom_export import write_demo_export

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from project_helpers import make_project, point_at_dicom_export, run_project  # noqa: E402


def compare(ingested_manifest: Path, cohort: Path) -> tuple[int, list[tuple[str, str]]]:
    """(identical images, [(patient, column) that differ]) between ingest and the NIfTI demo."""
    man = pd.read_csv(ingested_manifest, dtype=str)
    ref = pd.read_csv(cohort / "manifest.csv", dtype=str).set_index("patient_id")
    columns = [c for c in man.columns if c.endswith("_ct") or "_mask_" in c]
    same, differ = 0, []
    for row in man.to_dict("records"):
        for column in columns:
            a = sitk.ReadImage(str(ingested_manifest.parent / row[column]))
            b = sitk.ReadImage(str(cohort / ref.loc[row["patient_id"], column]))
            equal = (
                np.array_equal(sitk.GetArrayViewFromImage(a), sitk.GetArrayViewFromImage(b))
                and np.allclose(a.GetOrigin(), b.GetOrigin())
                and np.allclose(a.GetSpacing(), b.GetSpacing())
                and np.allclose(a.GetDirection(), b.GetDirection())
            )
            same += equal
            if not equal:
                differ.append((row["patient_id"], column))
    return same, differ


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folder", type=Path, default=None, help="default: a temporary folder")
    parser.add_argument("--full", action=argparse.BooleanOptionalAction, default=True)
    args = parser.parse_args()
    folder = args.folder or Path(tempfile.mkdtemp(prefix="ingest_e2e_"))
    t0 = time.perf_counter()
    cohort = write_demo_cohort(
        folder / "cohort", tiny_config(seed=11, n_training=40, n_validation=20)
    )
    write_demo_export(cohort, folder / "dicom", folder / "map.csv", 60, compress=True)
    t1 = time.perf_counter()
    print(f"DICOM export of 60 patients written in {t1 - t0:.0f} s ({folder / 'dicom'})")
    project = make_project(folder / "project", cohort, "ingest:\n  series:\n    min_slices: 5\n")
    point_at_dicom_export(project, folder / "dicom", folder / "map.csv", cohort / "clinical.csv")
    run_project(project, ["ingest"])
    t2 = time.perf_counter()
    same, differ = compare(project / "data/02_intermediate/ingest/manifest.csv", cohort)
    print(f"ingest: {t2 - t1:.0f} s; {same} images identical to the NIfTI originals, "
          f"{len(differ)} differ {differ[:5]}")  # fmt: skip
    if args.full:
        run_project(project)
        seconds, report = time.perf_counter() - t2, project / "data/08_reporting"
        print(f"kedro run (default pipeline) on the ingested manifest: {seconds:.0f} s; "
              f"report in {report}")  # fmt: skip


if __name__ == "__main__":
    main()
