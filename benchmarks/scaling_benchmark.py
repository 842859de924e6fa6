"""Benchmark of the compute engine: preprocessing speed-up with N Dask workers, and memory.

Runs the `preprocessing` pipeline (image checks -> registration -> crops, written through the
crash-safe partitioned dataset) once per engine -- ``synchronous`` and a ``LocalCluster`` of
each ``--workers`` count -- each in a fresh subprocess, on the same cohort, and reports in one
table: wall time, seconds per patient, speed-up against ``LocalCluster(1)`` (goal on 2 cores:
>= 0.85 x N) -- of the whole run, and of its per-patient work alone (the two nodes, without
the cluster's start, which does not shrink with more workers) --, peak RSS of the client
process and of the largest worker process, and whether
the crops are bitwise identical to the synchronous run's. The cohort is a manifest you give
(e.g. the demo cohort) or a generated one with small volumes (``--generate N``): compare the
peak RSS of ``--generate 50`` and ``--generate 500`` (goal: within 15 %), and run
``--generate 2000`` to completion.

Not a test; run it by hand (timings need a quiet machine)::

    .venv/bin/python benchmarks/scaling_benchmark.py --manifest data/01_raw/demo/manifest.csv
    .venv/bin/python benchmarks/scaling_benchmark.py --generate 50 --workers 2
    .venv/bin/python benchmarks/scaling_benchmark.py --generate 500 --workers 2
    .venv/bin/python benchmarks/scaling_benchmark.py --generate 2000 --workers 2 --engines local
"""

from __future__ import annotations

import argparse
import hashlib
import json
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _params() -> tuple[dict, dict]:
    contract = yaml.safe_load((ROOT / "conf/base/parameters.yml").read_text())["data_contract"]
    pre = yaml.safe_load((ROOT / "conf/base/parameters_preprocessing.yml").read_text())
    return contract, pre["preprocessing"]


def _digest(folder: Path) -> str:
    sha = hashlib.sha256()
    for path in sorted(folder.glob("*.npz")):
        sha.update(path.name.encode())
        sha.update(path.read_bytes())
    return sha.hexdigest()


def run_once(manifest: Path, out: Path, compute: dict) -> dict:
    """Run the preprocessing pipeline once in this process; wall time, RSS, crops digest."""
    from kedro.io import DataCatalog, MemoryDataset
    from kedro.runner import SequentialRunner
    from kedro_datasets.pandas import CSVDataset

    from hcc_nomogram.datasets import AtomicPartitionedDataset, CohortManifestDataset
    from hcc_nomogram.pipelines.preprocessing import create_pipeline

    contract, pre = _params()
    catalog = DataCatalog(
        {
            "cohort_manifest": CohortManifestDataset(str(manifest)),
            "params:data_contract": MemoryDataset(contract),
            "params:preprocessing": MemoryDataset({**pre, "on_bad_patient": "exclude"}),
            "params:compute": MemoryDataset(compute),
            "preprocessing_validation": CSVDataset(filepath=str(out / "validation.csv")),
            "preprocessed_crops": AtomicPartitionedDataset(
                path=str(out / "crops"),
                dataset="hcc_nomogram.datasets.NpzDataset",
                filename_suffix=".npz",
            ),
            "preprocessing_qc_records": AtomicPartitionedDataset(
                path=str(out / "qc"), dataset="json.JSONDataset", filename_suffix=".json"
            ),
            "preprocessing_qc": CSVDataset(filepath=str(out / "qc.csv")),
        }
    )
    from node_timer import NodeTimer

    from hcc_nomogram.compute import ComputeSettings, close_run_engine, run_engine
    from hcc_nomogram.parameters import typed

    times = NodeTimer()
    start = time.perf_counter()
    run_engine(typed(ComputeSettings, compute))  # the cluster the nodes then share (as kedro run)
    engine_s = time.perf_counter() - start
    SequentialRunner().run(create_pipeline(), catalog, hook_manager=times.hook_manager())
    wall = time.perf_counter() - start
    close_run_engine()
    crops = out / "crops"
    return {
        "wall_s": wall,
        "engine_start_s": engine_s,
        "checks_s": times.seconds["validate_cohort_images"],
        # The crops are made while the partitioned datasets save the node's lazy outputs, so
        # this stage runs from the start of `preprocess_patients` to the end of the run.
        "crops_s": wall - (times.started["preprocess_patients"] - start),
        "patients_with_crops": len(list(crops.glob("*.npz"))),
        "client_peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "largest_worker_peak_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
        "crops_sha256": _digest(crops),
    }


def _median_run(results: list[dict]) -> dict:
    """The per-key median of an engine's rounds (timings), its largest RSS, and its digest
    (which must be the same in every round)."""
    digests = {r["crops_sha256"] for r in results}
    if len(digests) != 1:
        raise SystemExit(f"crops differ between rounds of one engine: {sorted(digests)}")
    row = {
        key: statistics.median(r[key] for r in results) for key in results[0] if key.endswith("_s")
    }
    for key in ("client_peak_rss_mb", "largest_worker_peak_rss_mb", "patients_with_crops"):
        row[key] = max(r[key] for r in results)
    return {**row, "crops_sha256": digests.pop()}


def _generate(n: int, folder: Path) -> Path:
    from hcc_nomogram.demo import write_demo_cohort
    from hcc_nomogram.demo.config import tiny_config

    n_validation = max(1, n // 3)
    write_demo_cohort(
        folder, tiny_config(seed=5, n_training=n - n_validation, n_validation=n_validation)
    )
    return folder / "manifest.csv"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--manifest", type=Path, default=None)
    source.add_argument(
        "--generate",
        type=int,
        default=None,
        metavar="N",
        help="generate an N-patient cohort with small volumes",
    )
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument(
        "--engines", nargs="+", default=["synchronous", "local"], choices=["synchronous", "local"]
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="rounds of every engine, interleaved; the table shows each engine's medians",
    )
    parser.add_argument("--one", default=None, help=argparse.SUPPRESS)  # internal: child run
    parser.add_argument("--out", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.one is not None:  # child: one engine, print its JSON line
        print("RESULT " + json.dumps(run_once(args.manifest, args.out, json.loads(args.one))))
        return

    with tempfile.TemporaryDirectory(prefix="scaling-") as tmp_name:
        tmp = Path(tmp_name)
        if args.generate is not None:
            t0 = time.perf_counter()
            manifest = _generate(args.generate, tmp / "cohort")
            print(f"generated {args.generate} patients in {time.perf_counter() - t0:.0f} s")
        else:
            manifest = (args.manifest or ROOT / "data/01_raw/demo/manifest.csv").resolve()
        engines = []
        if "synchronous" in args.engines:
            engines.append(("synchronous", {"mode": "synchronous"}))
        if "local" in args.engines:
            engines += [
                (f"LocalCluster({n})", {"mode": "local", "n_workers": n}) for n in args.workers
            ]
        runs: dict[str, list[dict]] = {name: [] for name, _ in engines}
        for round_ in range(args.repeat):  # rounds interleave the engines: drift hits them all
            for i, (name, compute) in enumerate(engines):
                out = tmp / f"run{round_}_{i}"
                out.mkdir()
                child = subprocess.run(
                    [
                        sys.executable,
                        __file__,
                        "--manifest",
                        str(manifest),
                        "--out",
                        str(out),
                        "--one",
                        json.dumps(compute),
                    ],
                    capture_output=True,
                    text=True,
                    check=False,
                )
                line = [x for x in child.stdout.splitlines() if x.startswith("RESULT ")]
                if child.returncode != 0 or not line:
                    print(child.stderr[-3000:])
                    raise SystemExit(f"{name} failed (exit {child.returncode})")
                runs[name].append(json.loads(line[0][len("RESULT ") :]))
                shutil.rmtree(out / "crops")  # digested; keep the disk footprint of one run
    label = manifest if args.generate is None else f"{args.generate} generated"
    _print_table(str(label), runs)


def _work_s(row: dict) -> float:
    """The per-patient work of a run: image checks + crops (no cluster start)."""
    return row["checks_s"] + row["crops_s"]


def _print_table(label: str, runs: dict[str, list[dict]]) -> None:
    rows = {name: _median_run(results) for name, results in runs.items()}
    rounds = len(next(iter(runs.values())))
    if rounds > 1:
        print(f"median of {rounds} interleaved rounds; wall s of each round:")
        for name, results in runs.items():
            print(f"  {name:18s} " + " ".join(f"{r['wall_s']:.1f}" for r in results))
        one_worker = runs.get("LocalCluster(1)", [])
        for name, results in runs.items():
            if one_worker and name.startswith("LocalCluster") and name != "LocalCluster(1)":
                ratios = (a["wall_s"] / b["wall_s"] for a, b in zip(one_worker, results))
                print(
                    f"  speed-up of {name} in each round: " + " ".join(f"{r:.2f}x" for r in ratios)
                )
    reference = next(iter(rows.values()))["crops_sha256"]
    one = rows.get("LocalCluster(1)", {}).get("wall_s")
    print(
        f"cohort: {label}; patients with crops: {next(iter(rows.values()))['patients_with_crops']}"
    )
    print(
        f"{'engine':18s} {'wall s':>8s} {'s/patient':>10s} {'speed-up':>9s} "
        f"{'start s':>8s} {'checks s':>9s} {'crops s':>8s} {'speed-up':>9s} "
        f"{'client MB':>10s} {'worker MB':>10s}  identical"
    )
    for name, row in rows.items():
        n = max(1, row["patients_with_crops"])
        local = one and name.startswith("LocalCluster")
        speed = f"{one / row['wall_s']:.2f}x" if local else "-"
        work_speed = f"{_work_s(rows['LocalCluster(1)']) / _work_s(row):.2f}x" if local else "-"
        print(
            f"{name:18s} {row['wall_s']:8.1f} {row['wall_s'] / n:10.3f} {speed:>9s} "
            f"{row['engine_start_s']:8.1f} {row['checks_s']:9.1f} {row['crops_s']:8.1f} "
            f"{work_speed:>9s} "
            f"{row['client_peak_rss_mb']:10.0f} {row['largest_worker_peak_rss_mb']:10.0f}  "
            f"{row['crops_sha256'] == reference}"
        )
    print(
        "wall: the whole run, cluster start included; start: starting the engine (LocalCluster "
        "and its workers); checks: validate_cohort_images; crops: preprocess_patients and the "
        "saving of its outputs (registration, crops, QC); the second speed-up is theirs "
        "(checks + crops), against LocalCluster(1)."
    )


if __name__ == "__main__":
    main()
