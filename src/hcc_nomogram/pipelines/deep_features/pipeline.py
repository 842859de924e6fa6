"""Wiring of the `deep_features` pipeline.

One template (:func:`create_phase_pipeline`) is instantiated once per CT phase under the
namespaces ``arterial`` and ``portal``; the DenseNet is built once and shared by both.
"""

from kedro.pipeline import Node, Pipeline

from hcc_nomogram.parameters import CT_PHASES

from .nodes import (
    assemble_model_input_features,
    build_densenet_extractor,
    compute_feature_icc,
    extract_deep_features,
    select_reproducible_features,
)

SHARED_PARAMETERS = {"params:data_contract", "params:deep_features.icc", "params:compute"}


def create_phase_pipeline() -> Pipeline:
    """Template for one phase; ``params:phase`` is mapped to ``deep_features.phases.<phase>``."""
    return Pipeline(
        [
            Node(
                extract_deep_features,
                [
                    "preprocessed_crops",
                    "crop_inventory",
                    "densenet_extractor",
                    "params:phase",
                    "params:data_contract",
                    "params:compute",
                ],
                "deep_features",
                name="extract_deep_features",
            ),
            Node(
                compute_feature_icc,
                ["deep_features", "params:deep_features.icc", "params:data_contract"],
                "icc_table",
                name="compute_feature_icc",
            ),
            Node(
                select_reproducible_features,
                ["deep_features", "icc_table", "params:data_contract"],
                "reproducible_features",
                name="select_reproducible_features",
            ),
        ]
    )


def create_pipeline(phases: tuple[str, ...] = CT_PHASES, **kwargs) -> Pipeline:
    build = Pipeline(
        [
            Node(
                build_densenet_extractor,
                [
                    "params:deep_features",
                    "preprocessed_crops",
                    "params:data_contract",
                    "params:deep_features.phases",
                ],
                ["densenet_extractor", "densenet_weights_provenance", "crop_inventory"],
                name="build_densenet_extractor",
            ),
        ]
    )
    per_phase = [
        Pipeline(
            create_phase_pipeline(),
            namespace=phase,
            inputs={"preprocessed_crops", "crop_inventory", "densenet_extractor"},
            outputs={"reproducible_features": f"{phase}_reproducible_features"},
            parameters={
                "params:phase": f"params:deep_features.phases.{phase}",
                **{p: p for p in SHARED_PARAMETERS},
            },
        )
        for phase in phases
    ]
    assemble = Pipeline(
        [
            Node(
                assemble_model_input_features,
                [
                    "cohort_manifest",
                    "params:data_contract",
                    *[f"{phase}_reproducible_features" for phase in phases],
                ],
                "model_input_features",
                name="assemble_model_input_features",
            ),
        ]
    )
    return build + sum(per_phase, Pipeline([])) + assemble
