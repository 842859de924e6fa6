"""Wiring of the `nomogram` pipeline.

Shared part (Table 1, cohort survival, univariate Cox), then ONE modular model pipeline
instantiated twice, namespaces ``clinical`` and ``integrated`` (clinical factors + signature),
then the cross-model outputs (C-index comparison, Table 2, risk groups, decision curves,
NRI/IDI).
"""

from kedro.pipeline import Node, Pipeline

from hcc_nomogram.parameters import NOMOGRAM_MODELS

from . import nodes

MODELS = NOMOGRAM_MODELS
CLINICAL, INTEGRATED = (f"{m}.nomogram_predictions" for m in MODELS)
COMMON = ["params:nomogram", "params:data_contract"]
# ``params:model`` is the namespace's ``nomogram.models.*``
DEVELOP = ["nomogram_cohort", "params:nomogram", "params:model", "params:data_contract"]


def _node(func, inputs, outputs) -> Node:
    """A node named after its function."""
    return Node(func, inputs, outputs, name=func.__name__)


def _model_pipeline() -> Pipeline:
    """Template for one nomogram."""
    return Pipeline(
        [
            _node(nodes.develop_nomogram, DEVELOP, ["nomogram_model", "stepwise_trace"]),
            _node(nodes.tabulate_multivariate_cox, "nomogram_model", "multivariate_cox"),
            _node(
                nodes.score_patients,
                ["nomogram_model", "nomogram_cohort", *COMMON],
                "nomogram_predictions",
            ),
            _node(
                nodes.evaluate_discrimination,
                ["nomogram_model", "nomogram_predictions", *COMMON],
                "discrimination",
            ),
            _node(
                nodes.validate_by_bootstrap,
                [*DEVELOP, "params:compute"],
                "bootstrap_validation",
            ),
            _node(
                nodes.assess_calibration,
                ["nomogram_predictions", "params:nomogram"],
                ["calibration", "calibration_summary"],
            ),
            _node(
                nodes.assess_smooth_calibration,
                ["nomogram_predictions", "params:nomogram", "params:compute"],
                ["calibration_metrics", "calibration_curve"],
            ),
            _node(
                nodes.check_proportional_hazards,
                ["nomogram_model", "nomogram_cohort", *COMMON],
                "ph_test",
            ),
            _node(
                nodes.build_nomogram_points,
                ["nomogram_model", "params:nomogram"],
                ["nomogram_points", "nomogram_survival_scale"],
            ),
        ]
    )


def create_pipeline(**kwargs) -> Pipeline:
    shared = Pipeline(
        [
            _node(nodes.prepare_nomogram_cohort, ["analysis_table", *COMMON], "nomogram_cohort"),
            _node(
                nodes.summarize_patient_characteristics,
                ["nomogram_cohort", *COMMON],
                "table1_characteristics",
            ),
            _node(nodes.summarize_cohort_survival, ["nomogram_cohort", *COMMON], "cohort_survival"),
            _node(nodes.fit_univariate_models, ["nomogram_cohort", *COMMON], "univariate_cox"),
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
                    "params:compute": "params:compute",
                    "params:model": f"params:nomogram.models.{m}",
                },
            )
            for m in MODELS
        ),
        Pipeline([]),
    )
    across = Pipeline(
        [
            _node(
                nodes.compare_models,
                [CLINICAL, INTEGRATED],
                "c_index_comparison",
            ),
            _node(
                nodes.combine_multivariate_tables,
                [f"{m}.multivariate_cox" for m in MODELS],
                "multivariate_cox_table",
            ),
            _node(
                nodes.stratify_risk_groups,
                [INTEGRATED, CLINICAL],
                ["risk_group_summary", "risk_group_km"],
            ),
            _node(
                nodes.analyse_decision_curves,
                [CLINICAL, INTEGRATED, "params:nomogram"],
                "decision_curves",
            ),
            _node(
                nodes.assess_reclassification,
                [CLINICAL, INTEGRATED, "params:nomogram"],
                "reclassification",
            ),
        ]
    )
    return shared + models + across
