"""Benchmark of the `deep_features` extraction: images/second of the pipeline's code path
against a bare ``model.predict`` on the same crops, in the same process.

The pipeline path is ``extract_deep_features`` (crop loading from partition loaders, per-crop
validation, 1-to-3-channel conversion, batched ``predict_on_batch``, table assembly); the
bare path is ``model.predict(x3, batch_size=...)`` on ready 3-channel arrays (and, as a
stricter baseline, a bare loop of ``model.predict_on_batch``). The ratio
pipeline/bare (goal >= 0.9) measures the overhead of our code. Also reported: peak resident
memory, CPU count, and the GPUs TensorFlow sees.

Not a test; run it by hand::

    .venv/bin/python benchmarks/deep_features_benchmark.py                  # 12 patients x 3 crops
    .venv/bin/python benchmarks/deep_features_benchmark.py --patients 40 --batch-size 32 --repeats 3
    .venv/bin/python benchmarks/deep_features_benchmark.py --crops-dir data/03_primary/crops
    .venv/bin/python benchmarks/deep_features_benchmark.py --compute local --workers 2

``--compute local`` runs the pipeline path on a Dask ``LocalCluster`` of ``--workers`` workers
x ``--threads`` threads (``hcc_nomogram.features.extraction``: workers read the crops from the
files and build the model once each; the cluster start and the workers' model builds happen
in the warm-up, so they are not timed); the bare baselines run in this process.

Random weights are used unless ``--weights`` is given (the speed does not depend on them).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from hcc_nomogram.compute import ComputeSettings, close_run_engine, run_engine
from hcc_nomogram.datasets import NpzDataset
from hcc_nomogram.features.densenet import make_extractor
from hcc_nomogram.parameters import typed
from hcc_nomogram.pipelines.deep_features.nodes import (
    check_preprocessed_crops,
    collect_phase_crops,
    extract_deep_features,
)

CONTRACT = {
    "id_column": "patient_id",
    "primary_delineation": "r1a",
    "phases": {"arterial": "arterial_ct", "portal": "portal_ct"},
    "delineations": {"r1a": {}, "r1b": {}, "r2": {}},
}


def synthetic_partitions(n_patients: int, phase: str, folder: Path) -> dict:
    """Seeded noise crops written as ``preprocessed_crops`` files, read back lazily."""
    rng = np.random.default_rng(0)
    for i in range(n_patients):
        archive = {
            f"{phase}__{d}__image": rng.standard_normal((224, 224), dtype=np.float32)
            for d in CONTRACT["delineations"]
        }
        NpzDataset(str(folder / f"B{i:04d}.npz")).save(archive)
    return folder_partitions(folder)


def folder_partitions(folder: Path) -> dict:
    return {p.stem: NpzDataset(str(p)).load for p in sorted(folder.glob("*.npz"))}


def workers_peak_rss_mib(compute: dict) -> list[float] | None:
    """Peak RSS of each Dask worker process (each holds its own model), or None in process."""
    if compute["mode"] == "synchronous":
        return None
    client = run_engine(typed(ComputeSettings, compute)).client
    peaks = client.run(peak_rss_mib)  # a function of __main__: shipped by value to the workers
    return [round(peaks[worker], 1) for worker in sorted(peaks)]


def peak_rss_mib() -> float:
    kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kib / 1024 if sys.platform != "darwin" else kib / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--patients", type=int, default=12)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--phase", default="arterial")
    parser.add_argument("--weights", default="random")
    parser.add_argument("--crops-dir", type=Path, default=None)
    parser.add_argument("--compute", choices=["synchronous", "local"], default="synchronous")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    compute = {"mode": args.compute}
    if args.compute == "local":
        compute.update(
            n_workers=args.workers, threads_per_worker=args.threads, extraction="workers"
        )

    import tensorflow as tf

    partitions = (
        folder_partitions(args.crops_dir)
        if args.crops_dir
        else synthetic_partitions(args.patients, args.phase, Path(tempfile.mkdtemp()))
    )
    t0 = time.perf_counter()
    extractor = make_extractor(
        {
            "weights": args.weights,
            "seed": 0,
            "allow_random_fallback": True,
            "batch_size": args.batch_size,
        }
    )
    build_s = time.perf_counter() - t0

    _, crops = collect_phase_crops(partitions, args.phase, CONTRACT)
    inventory = check_preprocessed_crops(partitions, CONTRACT, {args.phase: args.phase})
    x3 = extractor.to_input(crops)
    n = len(crops)
    # warm-up: trace both paths once (full and remainder batch shapes)
    extractor.model.predict(x3[: args.batch_size + 1], batch_size=args.batch_size, verbose=0)
    extractor.extract(crops[: args.batch_size + 1])
    extract_deep_features(partitions, inventory, extractor, args.phase, CONTRACT, compute)

    pipeline_s, bare_s, batch_s = [], [], []
    for _ in range(args.repeats):  # interleaved, so that load from other processes hits both
        t = time.perf_counter()
        table = extract_deep_features(
            partitions, inventory, extractor, args.phase, CONTRACT, compute
        )
        pipeline_s.append(time.perf_counter() - t)
        t = time.perf_counter()
        bare = extractor.model.predict(x3, batch_size=args.batch_size, verbose=0)
        bare_s.append(time.perf_counter() - t)
        t = time.perf_counter()
        for start in range(0, n, args.batch_size):
            extractor.model.predict_on_batch(x3[start : start + args.batch_size])
        batch_s.append(time.perf_counter() - t)
    feats = table.filter(like=f"{args.phase}_f").to_numpy()
    max_diff = float(np.abs(feats - bare).max())

    result = {
        "crops": n,
        "compute": compute,
        "batch_size": args.batch_size,
        "weights_source": extractor.weights_source,
        "model_build_s": round(build_s, 2),
        "pipeline_images_per_s": round(n / min(pipeline_s), 2),
        "bare_predict_images_per_s": round(n / min(bare_s), 2),
        "ratio_pipeline_over_bare": round(min(bare_s) / min(pipeline_s), 3),
        "bare_predict_on_batch_images_per_s": round(n / min(batch_s), 2),
        "ratio_pipeline_over_bare_predict_on_batch": round(min(batch_s) / min(pipeline_s), 3),
        "max_abs_feature_difference": max_diff,
        "peak_rss_mib": round(peak_rss_mib(), 1),
        "workers_peak_rss_mib": workers_peak_rss_mib(compute),
        "cpu_count": os.cpu_count(),
        "cpu_affinity": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "devices": [d.name for d in tf.config.list_physical_devices()],
        "tensorflow": tf.__version__,
    }
    close_run_engine()
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
