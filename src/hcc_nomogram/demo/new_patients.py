"""Example "new patients" for the predict pipeline, taken from the demo cohort.

``python -m hcc_nomogram.demo.new_patients`` writes ``data/01_raw/new_patients/`` (manifest with
the primary delineation only, and a clinical table without outcomes) for the first validation
patients of ``data/01_raw/demo``. Validation patients are never used for fitting, so they stand
in for patients the models have not seen. Used by ``make predict``.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import pandas as pd

from hcc_nomogram.errors import InputDataError

OUTCOME_COLUMNS = ("os_months", "os_event", "pfs_months", "pfs_event")


def write_new_patients_example(
    demo_folder: str | Path = "data/01_raw/demo",
    out_folder: str | Path = "data/01_raw/new_patients",
    n_patients: int = 3,
) -> Path:
    demo_folder, out_folder = Path(demo_folder), Path(out_folder)
    manifest_path = demo_folder / "manifest.csv"
    if not manifest_path.exists():
        raise InputDataError(
            "the demo cohort has not been generated.",
            file=manifest_path,
            fix="run `kedro run --pipelines=demo_cohort` (or `make run`) first.",
        )
    manifest = pd.read_csv(manifest_path, dtype={"patient_id": str})
    manifest = manifest[manifest["cohort"] == "validation"].head(n_patients)
    manifest = manifest.drop(columns=["cohort"])
    manifest = manifest.drop(columns=[c for c in manifest if c.endswith(("_r1b", "_r2"))])
    relative = Path(os.path.relpath(demo_folder.resolve(), out_folder.resolve()))
    for column in manifest.columns:
        if column.endswith(("_ct", "_r1a")):
            manifest[column] = [(relative / p).as_posix() for p in manifest[column]]
    clinical = pd.read_csv(demo_folder / "clinical.csv", dtype={"patient_id": str})
    clinical = clinical[clinical["patient_id"].isin(manifest["patient_id"])]
    clinical = clinical.drop(columns=["cohort", *OUTCOME_COLUMNS])
    out_folder.mkdir(parents=True, exist_ok=True)
    manifest.to_csv(out_folder / "manifest.csv", index=False)
    clinical.to_csv(out_folder / "clinical.csv", index=False)
    return out_folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--demo", default="data/01_raw/demo")
    parser.add_argument("--out", default="data/01_raw/new_patients")
    parser.add_argument("-n", type=int, default=3)
    args = parser.parse_args()
    print(write_new_patients_example(args.demo, args.out, args.n))


if __name__ == "__main__":
    main()
