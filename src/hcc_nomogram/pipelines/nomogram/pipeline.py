"""Wiring of the `nomogram` pipeline.

Shared part (Table 1, cohort survival, univariate Cox), then ONE modular model pipeline
instantiated twice, namespaces ``clinical`` and ``integrated`` (clinical factors + signature),
then the cross-model outputs (C-index comparison, Table 2, risk groups).
"""

from kedro.pipeline import Node, Pipeline

from . import nodes

MODELS = ("clinical", "integrated")


def _model_pipeline() -> Pipeline:
    """Template for one nomogram; ``params:model`` is that namespace's ``nomogram.models.*``."""
    common = ["params:nomogram", "params:data_contract"]
    return Pipeline(
        [
            Node(
                nodes.develop_nomogram,
                ["nomogram_cohort", "params:nomogram", "params:model", "params:data_contract"],
                ["nomogram_model", "stepwise_trace"],
                name="develop_nomogram",
            ),
            Node(
                nodes.tabulate_multivariate_cox,
                "nomogram_model",
                "multivariate_cox",
                name="tabulate_multivariate_cox",
            ),
            Node(
                nodes.score_patients,
                ["nomogram_model", "nomogram_cohort", *common],
                "nomogram_predictions",
                name="score_patients",
            ),
            Node(
                nodes.evaluate_discrimination,
                ["nomogram_predictions", *common],
                "discrimination",
                name="evaluate_discrimination",
            ),
            Node(
                nodes.validate_by_bootstrap,
                ["nomogram_cohort", "params:nomogram", "params:model", "params:data_contract"],
                "bootstrap_validation",
                name="validate_by_bootstrap",
            ),
            Node(
                nodes.assess_calibration,
                ["nomogram_predictions", "params:nomogram"],
                ["calibration", "calibration_summary"],
                name="assess_calibration",
            ),
            Node(
                nodes.check_proportional_hazards,
                ["nomogram_model", "nomogram_cohort", *common],
                "ph_test",
                name="check_proportional_hazards",
            ),
            Node(
                nodes.build_nomogram_points,
                ["nomogram_model", "params:nomogram"],
                ["nomogram_points", "nomogram_survival_scale"],
                name="build_nomogram_points",
            ),
        ]
    )


def create_pipeline(**kwargs) -> Pipeline:
    common = ["params:nomogram", "params:data_contract"]
    shared = Pipeline(
        [
            Node(
                nodes.prepare_nomogram_cohort,
                ["analysis_table", *common],
                "nomogram_cohort",
                name="prepare_nomogram_cohort",
            ),
            Node(
                nodes.summarise_patient_characteristics,
                ["nomogram_cohort", *common],
                "table1_characteristics",
                name="summarise_patient_characteristics",
            ),
            Node(
                nodes.summarise_cohort_survival,
                ["nomogram_cohort", *common],
                "cohort_survival",
                name="summarise_cohort_survival",
            ),
            Node(
                nodes.fit_univariate_models,
                ["nomogram_cohort", *common],
                "univariate_cox",
                name="fit_univariate_models",
            ),
        ]
    )
    models = sum(
        (
            Pipeline(
                _model_pipeline(),
                namespace=m,
                inputs={"nomogram_cohort"},
                parameters={
                    "params:nomogram": "params:nomogram",
                    "params:data_contract": "params:data_contract",
                    "params:model": f"params:nomogram.models.{m}",
                },
            )
            for m in MODELS
        ),
        Pipeline([]),
    )
    across = Pipeline(
        [
            Node(
                nodes.compare_models,
                ["clinical.nomogram_predictions", "integrated.nomogram_predictions"],
                "c_index_comparison",
                name="compare_models",
            ),
            Node(
                nodes.combine_multivariate_tables,
                ["clinical.multivariate_cox", "integrated.multivariate_cox"],
                "multivariate_cox_table",
                name="combine_multivariate_tables",
            ),
            Node(
                nodes.stratify_risk_groups,
                ["integrated.nomogram_predictions", "clinical.nomogram_predictions"],
                ["risk_group_summary", "risk_group_km"],
                name="stratify_risk_groups",
            ),
        ]
    )
    return shared + models + across
