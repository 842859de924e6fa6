"""Helpers of the reliability suite: small private cohorts, file breakers, a `kedro` CLI
launcher, and a byte-level digest of output folders."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
from project_helpers import REPO_ROOT


def copy_cohort(source: Path, folder: Path, n_patients: int = 5) -> Path:
    """The first ``n_patients`` of ``source`` (manifest, clinical table, images) in ``folder``."""
    manifest = pd.read_csv(source / "manifest.csv", dtype={"patient_id": str}).head(n_patients)
    clinical = pd.read_csv(source / "clinical.csv", dtype={"patient_id": str})
    folder.mkdir(parents=True, exist_ok=True)
    for pid in manifest["patient_id"]:
        shutil.copytree(source / "images" / pid, folder / "images" / pid)
    manifest.to_csv(folder / "manifest.csv", index=False)
    clinical[clinical["patient_id"].isin(manifest["patient_id"])].to_csv(
        folder / "clinical.csv", index=False
    )
    return folder


def image_path(cohort: Path, patient_id: str, column: str) -> Path:
    manifest = pd.read_csv(cohort / "manifest.csv", dtype={"patient_id": str})
    row = manifest.set_index("patient_id").loc[patient_id]
    return cohort / row[column]


def truncate(path: Path, fraction: float = 0.4) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * fraction)])


def digest(folder: Path) -> dict[str, str]:
    """``{relative path: sha256}`` of every file under ``folder`` (byte-identical check)."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def kedro_cli(root: Path, *args: str, env: dict | None = None, **kwargs):
    """Start ``kedro <args>`` in the project at ``root`` (this checkout's sources first)."""
    (root / "src").mkdir(exist_ok=True)  # the CLI requires the folder; the package is on PYTHONPATH
    full_env = {k: v for k, v in os.environ.items() if k != "HCC_NOMOGRAM_TRACEBACK"}
    full_env.update(
        {
            "PYTHONPATH": str(REPO_ROOT / "src"),
            "KEDRO_DISABLE_TELEMETRY": "true",
            "DO_NOT_TRACK": "1",
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "KEDRO_LOGGING_CONFIG": str(root / "conf" / "logging.yml"),
            **(env or {}),
        }
    )
    kedro = Path(sys.executable).with_name("kedro")
    return subprocess.Popen(
        [str(kedro), *args],
        cwd=root,
        env=full_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        encoding="utf-8",
        errors="replace",
        **kwargs,
    )
