"""Project-level checks: registry, catalog resolution, telemetry off, set-up files."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import yaml

REPO_ROOT = Path(__file__).resolve().parents[1]
KEDRO = str(Path(sys.executable).with_name("kedro"))
ENV = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "true"}

EXPECTED = {
    "__default__",
    "demo_cohort",
    "preprocessing",
    "deep_features",
    "signature",
    "nomogram",
    "reporting",
    "predict",
}


def test_registry_lists_every_pipeline():
    from kedro.framework.project import configure_project, pipelines

    configure_project("hcc_nomogram")
    assert EXPECTED <= set(pipelines)
    default = pipelines["__default__"]
    assert not (set(default.nodes) & set(pipelines["demo_cohort"].nodes))


def test_kedro_registry_list_cli():
    out = subprocess.run(
        [KEDRO, "registry", "list"],
        cwd=REPO_ROOT,
        env=ENV,
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="replace",
        timeout=300,
        check=True,
    ).stdout
    for name in EXPECTED:
        assert f"- {name}" in out


def test_telemetry_consent_is_false():
    consent = yaml.safe_load((REPO_ROOT / ".telemetry").read_text(encoding="utf-8"))
    assert consent == {"consent": False}


def test_dependencies_are_pinned():
    lock = (REPO_ROOT / "requirements-lock.txt").read_text(encoding="utf-8").splitlines()
    pins = {line.split("==")[0].lower().replace("_", "-") for line in lock if "==" in line}
    for pkg in (
        "kedro",
        "kedro-datasets",
        "kedro-viz",
        "tensorflow-cpu",
        "simpleitk",
        "scikit-survival",
        "pymrmr",
        "statsmodels",
        "pandas",
        "plotly",
    ):
        assert pkg in pins, pkg
    assert all("==" in line for line in lock if line and not line.startswith("#"))


def test_readme_starts_with_the_two_commands():
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("```")[1]
    commands = [ln.split("#")[0].strip() for ln in block.splitlines()[1:] if ln.strip()]
    assert commands == ["make run", "make test"]
    ci = (REPO_ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "\nmake test\n" in ci


def test_every_catalog_output_is_versioned_where_required():
    """Models, feature/metric tables and figures are versioned (partitioned crops excepted)."""
    entries = {}
    for f in sorted((REPO_ROOT / "conf" / "base").glob("catalog*.yml")):
        entries.update(yaml.safe_load(f.read_text(encoding="utf-8")) or {})
    keywords = (
        "model",
        "features",
        "metrics",
        "figure",
        "table2",
        "icc",
        "signature_weights",
        "signature_scores",
        "report",
    )
    for name, cfg in entries.items():
        if not isinstance(cfg, dict) or "PartitionedDataset" in str(cfg.get("type", "")):
            continue
        if any(k in name for k in keywords) and "Memory" not in str(cfg.get("type")):
            assert cfg.get("versioned") is True, f"catalog entry {name!r} must be versioned"


def test_every_pipeline_dataset_is_declared_in_the_catalog():
    """`kedro catalog` resolves every dataset explicitly (no silent default MemoryDataset)."""
    from kedro.framework.project import configure_project, pipelines
    from kedro.framework.session import KedroSession

    configure_project("hcc_nomogram")
    with KedroSession.create(project_path=REPO_ROOT) as session:
        catalog = session.load_context().catalog
    names = set()
    for pipeline in pipelines.values():
        names |= {
            d for d in pipeline.datasets() if not d.startswith("params:") and d != "parameters"
        }
    undeclared = sorted(d for d in names if d not in catalog)
    assert undeclared == []


def _catalog_layers() -> dict:
    entries = {}
    for f in sorted((REPO_ROOT / "conf" / "base").glob("catalog*.yml")):
        entries.update(yaml.safe_load(f.read_text(encoding="utf-8")) or {})
    return {
        k: ((v or {}).get("metadata") or {}).get("kedro-viz", {}).get("layer")
        for k, v in entries.items()
        if not k.startswith("_")
    }


def test_kedro_viz_layers_are_acyclic_in_every_pipeline():
    """kedro-viz drops the layer display when layers form a cycle (e.g. feature -> model_input
    -> feature): every dataset has a layer and the layer order is consistent."""
    import re

    from kedro.framework.project import configure_project, pipelines

    configure_project("hcc_nomogram")
    layers = _catalog_layers()

    def layer(name):
        if name in layers:
            return layers[name]
        for key, value in layers.items():
            if "{" in key and re.fullmatch(re.sub(r"\\\{[^}]+\\\}", ".+", re.escape(key)), name):
                return value
        return None

    for pname, pipeline in pipelines.items():
        edges = {}
        for node in pipeline.nodes:
            for i in node.inputs:
                if i.startswith("params:"):
                    continue
                assert layer(i), f"{i!r} has no kedro-viz layer"
                for o in node.outputs:
                    assert layer(o), f"{o!r} has no kedro-viz layer"
                    if layer(i) != layer(o):
                        edges.setdefault(layer(i), set()).add(layer(o))
        # depth-first search for a cycle in the layer graph
        state = {}

        def visit(v, path, pname=pname, edges=edges, state=state):
            state[v] = 1
            for w in edges.get(v, ()):
                assert state.get(w) != 1, f"{pname}: layer cycle {path + [w]}"
                if w not in state:
                    visit(w, path + [w])
            state[v] = 2

        for v in list(edges):
            if v not in state:
                visit(v, [v])
