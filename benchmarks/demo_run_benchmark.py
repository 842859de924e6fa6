"""The full default `kedro run` against its CNN floor (issue 14: "the demo run within 2x the
CNN floor"), per compute mode, in one script.

For each ``--modes`` entry (``local``, ``synchronous``) the script lays out a fresh copy of the
project reading the cohort (``tests/project_helpers.make_project``), sets ``compute.mode`` and
runs the default pipeline in a fresh process (as ``kedro run`` would), timing every node with a
hook: a node's time runs from its start to the next node's start, so it includes the saving of
its outputs (where the lazy preprocessing works). Then, in this process, the CNN floor: a bare
``model.predict`` of DenseNet-121 over the same crops (every phase x delineation of every
patient, the run's batch size), model built beforehand. It prints wall time, run/floor, each
stage's share and the TensorFlow devices.

Usage (the demo cohort: ``kedro run --pipelines=demo_cohort`` writes data/01_raw/demo)::

    PYTHONPATH=$PWD/src python benchmarks/demo_run_benchmark.py --cohort data/01_raw/demo
    PYTHONPATH=$PWD/src python benchmarks/demo_run_benchmark.py --tiny --modes local  # smoke

``--tiny`` writes the ~20-patient test cohort and uses the tests' fast parameters (small grids
and resamples), so only its wall times' order of magnitude means anything.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import yaml

REPO = Path(__file__).resolve().parents[1]
STAGES = ("preprocessing", "deep_features", "signature", "nomogram", "reporting")

RUN_WITH_TIMINGS = """
import json, sys, time
from pathlib import Path
from kedro.framework.hooks import hook_impl
from kedro.framework.project import configure_project
from kedro.framework.session import KedroSession

class Timings:
    def __init__(self):
        self.starts = []
    @hook_impl
    def before_node_run(self, node):
        self.starts.append((node.name, time.perf_counter()))

root, out = Path(sys.argv[1]), Path(sys.argv[2])
configure_project("hcc_nomogram")
timings, t0 = Timings(), time.perf_counter()
with KedroSession.create(project_path=root, env="local") as session:
    session._hook_manager.register(timings)  # a benchmark-only hook (no settings.py change)
    session.run()
end = time.perf_counter()
marks = timings.starts + [("<end>", end)]
nodes = {name: marks[i + 1][1] - t for i, (name, t) in enumerate(timings.starts)}
out.write_text(json.dumps({"wall_s": end - t0, "nodes": nodes}))
"""


def make_run_project(root: Path, cohort: Path, mode: str, tiny: bool) -> Path:
    sys.path[:0] = [str(REPO / "tests"), str(REPO / "tests" / "report")]
    from project_helpers import FAST_PARAMETERS, make_project

    make_project(root, cohort)
    params: dict = {}
    if tiny:
        from demo_run import TINY_OVERRIDES, _merge

        params = _merge(yaml.safe_load(FAST_PARAMETERS), TINY_OVERRIDES)
    params["compute"] = {"mode": mode}
    (root / "conf/local/parameters.yml").write_text(yaml.safe_dump(params), encoding="utf-8")
    return root


def timed_run(root: Path) -> dict:
    out = root / "timings.json"
    env = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "true", "TF_CPP_MIN_LOG_LEVEL": "2"}
    subprocess.run(  # noqa: S603  our own interpreter and script
        [sys.executable, "-c", RUN_WITH_TIMINGS, str(root), str(out)],
        cwd=root,
        env=env,
        check=True,
    )
    return json.loads(out.read_text())


def stage_of(nodes: list[str]) -> dict[str, str]:
    import importlib

    stage = {}
    for name in STAGES:
        for node in (
            importlib.import_module(f"hcc_nomogram.pipelines.{name}").create_pipeline().nodes
        ):
            stage.setdefault(node.name, name)
    return {node: stage.get(node, "other") for node in nodes}


def cnn_floor(crops_dir: Path, batch_size: int) -> tuple[int, float, list[str]]:
    """``(crops, seconds, devices)`` of a bare ``model.predict`` over every image crop."""
    import keras
    import tensorflow as tf

    crops = []
    for path in sorted(crops_dir.glob("*.npz")):
        with np.load(path) as archive:
            crops += [archive[k] for k in archive.files if k.endswith("__image")]
    stack = np.stack(crops).astype(np.float32)
    model = keras.applications.DenseNet121(
        include_top=False, weights=None, pooling="avg", input_shape=(224, 224, 3)
    )
    model.predict(np.repeat(stack[:batch_size, ..., None], 3, axis=-1), verbose=0)  # warm-up
    t0 = time.perf_counter()
    for start in range(0, len(stack), 256):  # 256 crops at a time: bounded input memory
        x = np.repeat(stack[start : start + 256, ..., None], 3, axis=-1)
        model.predict(x, batch_size=batch_size, verbose=0)
    seconds = time.perf_counter() - t0
    devices = [d.name for d in tf.config.list_physical_devices()]
    return len(stack), seconds, devices


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cohort", type=Path, help="folder with manifest.csv, clinical.csv")
    parser.add_argument("--tiny", action="store_true", help="the tests' ~20-patient cohort")
    parser.add_argument("--modes", nargs="+", default=["local", "synchronous"])
    parser.add_argument("--work", type=Path, default=None, help="keep the projects here")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="demo-run-benchmark-"))
    cohort = args.cohort
    if args.tiny:
        from hcc_nomogram.demo import write_tiny_demo_cohort

        cohort = write_tiny_demo_cohort(work / "tiny_cohort")
    if cohort is None or not (cohort / "manifest.csv").is_file():
        parser.error("give --cohort (e.g. data/01_raw/demo after `kedro run "
                     "--pipelines=demo_cohort`) or --tiny")  # fmt: skip
    batch_size = yaml.safe_load(
        (REPO / "conf/base/parameters_deep_features.yml").read_text(encoding="utf-8")
    )["deep_features"]["batch_size"]
    runs = {}
    for mode in args.modes:
        root = make_run_project(work / mode, cohort.resolve(), mode, args.tiny)
        print(f"--- kedro run, compute.mode={mode} ({root})", flush=True)
        runs[mode] = timed_run(root)
    n_crops, floor_s, devices = cnn_floor(
        work / args.modes[0] / "data/03_primary/crops", batch_size
    )
    print(f"\nCNN floor: bare model.predict of {n_crops} crops (batch {batch_size}) "
          f"{floor_s:.1f} s = {n_crops / floor_s:.1f} crops/s; devices {devices}")  # fmt: skip
    for mode, run in runs.items():
        shares: dict[str, float] = {}
        for node, stage in stage_of(list(run["nodes"])).items():
            shares[stage] = shares.get(stage, 0.0) + run["nodes"][node]
        print(f"\ncompute.mode={mode}: wall {run['wall_s']:.1f} s, "
              f"run/floor = {run['wall_s'] / floor_s:.2f}")  # fmt: skip
        for stage, seconds in sorted(shares.items(), key=lambda kv: -kv[1]):
            print(f"  {stage:14s} {seconds:7.1f} s  {100 * seconds / run['wall_s']:5.1f} %")
        slowest = sorted(run["nodes"].items(), key=lambda kv: -kv[1])[:5]
        print("  slowest nodes: " + ", ".join(f"{n} {s:.1f} s" for n, s in slowest))


if __name__ == "__main__":
    main()
