"""Hooks: a missing upstream dataset names the pipeline to run first; nothing is written."""

from __future__ import annotations

import pytest
from project_helpers import make_project, run_project

from hcc_nomogram.hooks import MissingUpstreamDataError, package_versions, producing_pipelines


def test_producers_are_found_across_all_pipelines():
    assert producing_pipelines("model_input_features") == ["deep_features"]
    assert producing_pipelines("signature_weights") == ["signature"]
    assert producing_pipelines("preprocessed_crops") == ["preprocessing"]
    # added by the registry, not by a pipeline package of its own
    assert producing_pipelines("training_settings") == ["deep_features"]
    assert producing_pipelines("no_such_dataset") == []


@pytest.mark.parametrize(
    ("pipeline", "expected"),
    [
        (
            "signature",
            "'model_input_features' does not exist yet: "
            "run `kedro run --pipelines=deep_features` first",
        ),
        (
            "nomogram",
            "'analysis_table' does not exist yet: run `kedro run --pipelines=signature` first",
        ),
        ("reporting", "run `kedro run --pipelines=nomogram` first"),
    ],
)
def test_missing_upstream_dataset_names_the_pipeline(
    tmp_path, tiny_demo_cohort, pipeline, expected
):
    root = make_project(tmp_path / "project", tiny_demo_cohort)
    with pytest.raises(MissingUpstreamDataError) as err:
        run_project(root, [pipeline])
    assert expected in str(err.value)
    assert "nothing was run or written" in str(err.value)
    written = [p for p in (root / "data").rglob("*") if p.is_file()]
    assert written == []


def test_package_versions_cover_the_numerical_stack():
    versions = package_versions()
    for name in ("python", "kedro", "numpy", "pandas", "scikit-survival", "SimpleITK"):
        assert name in versions
