"""Wiring of the `demo_cohort` pipeline (run explicitly: ``kedro run --pipelines=demo_cohort``)."""

from kedro.pipeline import Node, Pipeline

from .nodes import (
    build_manifest,
    extract_clinical_table,
    extract_ground_truth,
    render_demo_images,
    simulate_demo_patients,
)


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(simulate_demo_patients, "params:demo_cohort", "demo_patients",
                 name="simulate_demo_patients"),
            Node(extract_clinical_table, "demo_patients", "demo_clinical",
                 name="extract_clinical_table"),
            Node(extract_ground_truth, "demo_patients", "demo_ground_truth",
                 name="extract_ground_truth"),
            Node(build_manifest, "demo_patients", "demo_manifest", name="build_manifest"),
            Node(render_demo_images, ["demo_patients", "params:demo_cohort"], "demo_images",
                 name="render_demo_images"),
        ]
    )  # fmt: skip
