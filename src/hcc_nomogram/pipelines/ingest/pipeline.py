"""Wiring of the `ingest` pipeline (run explicitly: ``kedro run --pipelines=ingest``)."""

from kedro.pipeline import Pipeline, node

from .nodes import (
    build_ingest_outputs,
    convert_ingested_patients,
    index_dicom_export,
    plan_ingest,
)


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            node(
                index_dicom_export,
                inputs=["dicom_export", "params:ingest"],
                outputs="ingest_index",
                name="index_dicom_export",
            ),
            node(
                plan_ingest,
                inputs=["ingest_index", "dicom_export", "params:data_contract", "params:ingest"],
                outputs="ingest_plan",
                name="plan_ingest",
            ),
            node(
                convert_ingested_patients,
                inputs=["ingest_plan", "dicom_export", "params:data_contract", "params:ingest"],
                outputs="ingest_images",
                name="convert_ingested_patients",
            ),
            node(
                build_ingest_outputs,
                inputs=["ingest_plan", "ingest_images", "params:data_contract"],
                outputs=["ingest_manifest", "ingest_qc"],
                name="build_ingest_outputs",
            ),
        ]
    )
