"""Benchmark of the `preprocessing` pipeline: seconds per patient and registration accuracy.

Runs the per-patient preprocessing (validate -> register -> slice -> crop -> z-score) with the
parameters of ``conf/base/parameters_preprocessing.yml`` on a manifest (default: the demo
cohort), reports seconds per patient for registration and for the rest (loading, checks,
cropping), and -- when a ground-truth table with the true rigid transforms is given (the demo
generator's ``ground_truth/ground_truth.csv``, columns ``transform_center_{x,y,z}_mm``,
``transform_angle_{x,y,z}_rad``, ``transform_translation_{x,y,z}_mm``, arterial -> portal
points) -- the target registration error (TRE) over the tumour of each patient.

Not a test; run it by hand::

    .venv/bin/python benchmarks/preprocessing_benchmark.py               # whole demo cohort
    python benchmarks/preprocessing_benchmark.py --limit 20 --set registration.rigid.iterations=40
    # TRE of the transforms recorded by a `kedro run --pipelines=preprocessing` (no re-run):
    python benchmarks/preprocessing_benchmark.py --qc data/08_reporting/preprocessing_qc.csv
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd
import SimpleITK as sitk
import yaml

from hcc_nomogram.datasets import CohortManifestDataset
from hcc_nomogram.demo.phantom import true_transform
from hcc_nomogram.imaging.patient import (
    PatientSource,
    PreprocessingSettings,
    preprocess_patient,
)
from hcc_nomogram.imaging.registration import (
    euler_from_parameters,
    mask_points,
    target_registration_error,
)
from hcc_nomogram.parameters import DataContract, typed

ROOT = Path(__file__).resolve().parents[1]


def _set(params: dict, assignment: str) -> None:
    key, value = assignment.split("=", 1)
    *path, last = key.split(".")
    for part in path:
        params = params.setdefault(part, {})
    params[last] = yaml.safe_load(value)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--manifest", default=ROOT / "data/01_raw/demo/manifest.csv", type=Path)
    parser.add_argument(
        "--ground-truth",
        default=None,
        type=Path,
        help="default: <manifest folder>/ground_truth/ground_truth.csv if present",
    )
    parser.add_argument("--limit", type=int, default=None, help="first N patients only")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a preprocessing parameter, e.g. registration.seed=1",
    )
    parser.add_argument("--out", type=Path, default=None, help="write the per-patient table (CSV)")
    parser.add_argument(
        "--qc",
        type=Path,
        default=None,
        help="a preprocessing_qc CSV (file or versioned folder, latest version): "
        "report TRE and seconds from it instead of re-running",
    )
    args = parser.parse_args()

    params = yaml.safe_load((ROOT / "conf/base/parameters_preprocessing.yml").read_text())
    params = params["preprocessing"]
    for assignment in args.set:
        _set(params, assignment)
    contract = typed(
        DataContract,
        yaml.safe_load((ROOT / "conf/base/parameters.yml").read_text())["data_contract"],
    )
    settings = typed(PreprocessingSettings, params)
    manifest = CohortManifestDataset(str(args.manifest)).load()
    gt_path = args.ground_truth or args.manifest.parent / "ground_truth/ground_truth.csv"
    truth = (
        pd.read_csv(gt_path, dtype={"patient_id": str}).set_index("patient_id")
        if gt_path.exists()
        else None
    )
    fixed_column = contract.phases[settings.registration.fixed_phase]
    primary = contract.delineations[contract.primary_delineation][settings.registration.fixed_phase]

    ctx = {
        "manifest": manifest,
        "fixed_column": fixed_column,
        "primary": primary,
        "label": contract.mask_label,
    }
    if args.qc is not None:
        _report_qc(args.qc, ctx, truth)
        return
    rows = []
    patients = manifest.patient_ids[: args.limit]
    start = time.perf_counter()
    for pid in patients:
        _crops, qc = preprocess_patient(
            PatientSource.from_manifest(manifest, pid), contract, settings
        )
        row = {
            "patient_id": pid,
            "seconds_total": qc["seconds"],
            "seconds_registration": qc.get("registration_seconds", 0.0),
            "metric_before": qc.get("registration_metric_before"),
            "metric_after": qc.get("registration_metric_after"),
        }
        if truth is not None and pid in truth.index and "transform_parameters" in qc:
            tre, before = _tre(ctx, pid, true_transform(truth.loc[pid]), qc["transform_parameters"])
            row.update(
                tre_mean_mm=tre.mean(), tre_max_mm=tre.max(), tre_before_mean_mm=before.mean()
            )
        rows.append(row)
    wall = time.perf_counter() - start
    table = pd.DataFrame(rows)
    table["seconds_crop_and_io"] = table["seconds_total"] - table["seconds_registration"]
    if args.out:
        table.to_csv(args.out, index=False)
    print(f"patients: {len(table)}   wall: {wall:.1f} s   threads: {settings.registration.threads}")
    for col in ("seconds_registration", "seconds_crop_and_io", "seconds_total"):
        print(
            f"{col:24s} mean {table[col].mean():.3f}  median {table[col].median():.3f}  "
            f"max {table[col].max():.3f} s/patient"
        )
    if "tre_mean_mm" in table:
        print(f"TRE before registration: median {table['tre_before_mean_mm'].median():.2f} mm")
        print(
            f"TRE after (per-patient mean over the tumour): median "
            f"{table['tre_mean_mm'].median():.3f} mm, worst {table['tre_mean_mm'].max():.3f} mm; "
            f"worst single tumour voxel {table['tre_max_mm'].max():.3f} mm"
        )


def _tre(ctx: dict, pid: str, true: sitk.Transform, parameters: str):
    """TRE over the primary arterial tumour mask: (after, before registration), mm."""
    manifest = ctx["manifest"]
    fixed = manifest.image(pid, ctx["fixed_column"])
    mask = sitk.GetArrayFromImage(manifest.image(pid, ctx["primary"])) == ctx["label"]
    points = mask_points(mask, fixed, max_points=5000)
    tre = target_registration_error(euler_from_parameters(parameters), true, points)
    before = target_registration_error(sitk.Euler3DTransform(), true, points)
    return tre, before


def _report_qc(path: Path, ctx: dict, truth: pd.DataFrame | None) -> None:
    if path.is_dir():  # versioned dataset: <name>.csv/<version>/<name>.csv
        path = sorted(path.glob("*/*.csv"))[-1]
    qc = pd.read_csv(path, dtype={"patient_id": str})
    print(f"{path}: {len(qc)} patients, {int(qc['excluded'].sum())} excluded")
    for col in ("registration_seconds", "seconds"):
        print(
            f"{col:24s} mean {qc[col].mean():.3f}  median {qc[col].median():.3f}  "
            f"max {qc[col].max():.3f} s/patient"
        )
    if truth is None:
        return
    rows = []
    for _, row in qc[~qc["excluded"]].iterrows():
        pid = row["patient_id"]
        tre, before = _tre(ctx, pid, true_transform(truth.loc[pid]), row["transform_parameters"])
        rows.append((tre.mean(), tre.max(), before.mean()))
    t = np.array(rows)
    print(
        f"TRE before registration: median {np.median(t[:, 2]):.2f} mm, max {t[:, 2].max():.2f} mm"
    )
    print(
        f"TRE after (per-patient mean over the tumour): median {np.median(t[:, 0]):.3f} mm, "
        f"90th pct {np.percentile(t[:, 0], 90):.3f} mm, worst {t[:, 0].max():.3f} mm; "
        f"worst single tumour voxel {t[:, 1].max():.3f} mm"
    )


if __name__ == "__main__":
    main()
