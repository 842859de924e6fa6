"""Wiring of the `preprocessing` pipeline."""

from kedro.pipeline import Pipeline, node

from .nodes import preprocess_patients, summarize_preprocessing_qc, validate_cohort_images


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            node(
                validate_cohort_images,
                inputs=[
                    "cohort_manifest",
                    "params:data_contract",
                    "params:preprocessing",
                    "params:compute",
                ],
                outputs="preprocessing_validation",
                name="validate_cohort_images",
            ),
            node(
                preprocess_patients,
                inputs=[
                    "cohort_manifest",
                    "preprocessing_validation",
                    "params:data_contract",
                    "params:preprocessing",
                    "params:compute",
                ],
                # saved in any order: see hcc_nomogram.imaging.batch (each patient runs once)
                outputs=["preprocessed_crops", "preprocessing_qc_records"],
                name="preprocess_patients",
            ),
            node(
                summarize_preprocessing_qc,
                inputs="preprocessing_qc_records",
                outputs="preprocessing_qc",
                name="summarize_preprocessing_qc",
            ),
        ]
    )
