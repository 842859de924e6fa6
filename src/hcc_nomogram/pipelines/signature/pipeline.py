"""Wiring of the `signature` pipeline (see docs/signature.md)."""

from kedro.pipeline import Pipeline, node

from .nodes import (
    build_analysis_table,
    cross_validate_signature,
    evaluate_signature,
    fit_signature,
    prepare_training_set,
    rank_features,
    score_signature,
    tabulate_signature_weights,
)


def create_pipeline(**kwargs) -> Pipeline:
    contract, params = "params:data_contract", "params:signature"
    return Pipeline(
        [
            node(
                prepare_training_set,
                ["model_input_features", "clinical_table", contract, params],
                "signature_training_set",
                name="prepare_signature_training_set",
            ),
            node(
                rank_features,
                ["signature_training_set", contract, params],
                "mrmr_ranking",
                name="rank_features_mrmr",
            ),
            node(
                cross_validate_signature,
                ["signature_training_set", "mrmr_ranking", contract, params],
                "signature_cv_results",
                name="cross_validate_signature",
            ),
            node(
                fit_signature,
                [
                    "signature_training_set",
                    "mrmr_ranking",
                    "signature_cv_results",
                    contract,
                    params,
                ],
                "signature_model",
                name="fit_signature",
            ),
            node(
                tabulate_signature_weights,
                "signature_model",
                "signature_weights",
                name="tabulate_signature_weights",
            ),
            node(
                score_signature,
                ["signature_model", "model_input_features", contract],
                "signature_scores",
                name="score_signature",
            ),
            node(
                evaluate_signature,
                ["signature_scores", "clinical_table", contract, params],
                "signature_metrics",
                name="evaluate_signature",
            ),
            node(
                build_analysis_table,
                ["clinical_table", "signature_scores", contract],
                "analysis_table",
                name="build_analysis_table",
            ),
        ]
    )
