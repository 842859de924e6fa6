"""Signature benchmark: how much of the true linear predictor the deep learning signature
recovers, measured as validation Harrell's C against the oracle C of the true linear predictor
and the ratio ``(C - 0.5) / (C_oracle - 0.5)``.

Usage (from the project root, with .venv):

    # synthetic planted problem (no upstream data needed); DenseNet-sized feature table
    .venv/bin/python benchmarks/signature_benchmark.py synthetic --n 200 --features 2048

    # demo cohort, after `kedro run --pipelines=signature` (latest signature_scores version)
    .venv/bin/python benchmarks/signature_benchmark.py demo

The demo mode compares ``signature_lp`` with ``true_lp_image`` (the image part of the
simulated hazard, what an image signature can at best recover) and with ``true_lp`` (the whole
hazard, clinical + image) from ``data/01_raw/demo/ground_truth/ground_truth.csv``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hcc_nomogram.stats.concordance import harrell_c_index  # noqa: E402


def recovery(time_, event, score, oracle) -> dict:
    c = harrell_c_index(time_, event, score)
    o = harrell_c_index(time_, event, oracle)
    return {
        "c_index": round(c.c_index, 4),
        "ci": [round(c.ci_lower, 4), round(c.ci_upper, 4)],
        "c_oracle": round(o.c_index, 4),
        "ratio": round((c.c_index - 0.5) / (o.c_index - 0.5), 4),
    }


def run_synthetic(args) -> dict:
    from hcc_nomogram.pipelines.signature import nodes
    from hcc_nomogram.pipelines.signature.params import SignatureParams
    from tests.stats.signature_synthetic import DATA_CONTRACT, make_tables

    features, clinical, true_lp = make_tables(n=args.n, n_features=args.features, seed=args.seed)
    params = SignatureParams.model_validate({"random_seed": args.seed})
    timings = {}
    t0 = time.perf_counter()
    train = nodes.prepare_training_set(features, clinical, DATA_CONTRACT, params)
    ranking = nodes.rank_features(train, DATA_CONTRACT, params)
    timings["mrmr_s"] = round(time.perf_counter() - t0, 2)
    t1 = time.perf_counter()
    cv = nodes.cross_validate_signature(train, ranking, DATA_CONTRACT, params)
    timings["cv_s"] = round(time.perf_counter() - t1, 2)
    model = nodes.fit_signature(train, ranking, cv, DATA_CONTRACT, params)
    scores = nodes.score_signature(model, features, DATA_CONTRACT)
    val = (clinical["cohort"] == "validation").to_numpy()
    out = recovery(
        clinical["os_months"][val],
        clinical["os_event"][val],
        scores["signature_lp"][val],
        true_lp[val],
    )
    return {
        "mode": "synthetic",
        "n": args.n,
        "n_features": args.features,
        "selected": model.features,
        "config": model.config,
        **timings,
        "validation": out,
    }


def run_demo(args) -> dict:
    from kedro.framework.session import KedroSession
    from kedro.framework.startup import bootstrap_project

    bootstrap_project(ROOT)
    with KedroSession.create(project_path=ROOT) as session:
        catalog = session.load_context().catalog
        scores = catalog.load("signature_scores")
        clinical = catalog.load("clinical_table")
        metrics = catalog.load("signature_metrics")
    truth = pd.read_csv(args.ground_truth, dtype={"patient_id": str})
    data = scores.merge(clinical[["patient_id", "os_months", "os_event"]], on="patient_id")
    data = data.merge(truth[["patient_id", "true_lp", "true_lp_image"]], on="patient_id")
    result = {"mode": "demo", "signature_metrics": metrics.to_dict(orient="records")}
    for cohort in ("training", "validation"):
        part = data[data["cohort"] == cohort]
        for oracle in ("true_lp_image", "true_lp"):
            result[f"{cohort}_vs_{oracle}"] = recovery(
                part["os_months"], part["os_event"], part["signature_lp"], part[oracle]
            )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="mode", required=True)
    syn = sub.add_parser("synthetic")
    syn.add_argument("--n", type=int, default=200)
    syn.add_argument("--features", type=int, default=2048)
    syn.add_argument("--seed", type=int, default=0)
    demo = sub.add_parser("demo")
    demo.add_argument(
        "--ground-truth",
        type=Path,
        default=ROOT / "data/01_raw/demo/ground_truth/ground_truth.csv",
    )
    args = parser.parse_args()
    result = run_synthetic(args) if args.mode == "synthetic" else run_demo(args)
    print(json.dumps(result, indent=2, default=str))


if __name__ == "__main__":
    main()
