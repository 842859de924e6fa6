"""Wiring of the `predict` pipeline (docs/predict.md): frozen models applied to new patients.

:func:`create_pipeline` is ``kedro run --pipelines=predict``; nothing is refitted.
:func:`create_training_record_pipeline` records, with a training run, the settings that
decide crops and features (``training_settings``), which ``predict`` compares with the
current ones. It belongs in the training run (``__default__``), see docs/predict.md.
"""

from kedro.pipeline import Node, Pipeline

from hcc_nomogram.parameters import NOMOGRAM_MODELS

from . import nodes

CONTRACT = "params:data_contract"


def create_training_record_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                nodes.record_training_settings,
                [
                    CONTRACT,
                    "params:preprocessing",
                    "params:deep_features",
                    "densenet_weights_provenance",
                ],
                "training_settings",
                name="record_training_settings",
            ),
        ]
    )


#: the integrated nomogram's namespaced datasets, mapped in so that no node input holds a '.'
INTEGRATED = {
    f"integrated_{name}": f"{NOMOGRAM_MODELS[1]}.{name}"
    for name in ("nomogram_model", "discrimination", "bootstrap_validation", "calibration_summary")
}


def _by_name(*datasets: str, **renamed: str) -> dict[str, str]:
    """Inputs of a keyword-only node: each dataset under its own name, plus ``renamed``."""
    return {**{d: d for d in datasets}, **renamed}


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                nodes.check_feature_settings,
                ["training_settings", CONTRACT, "params:preprocessing", "params:deep_features"],
                [
                    "predict_settings_check",
                    "predict_preprocessing_settings",
                    "predict_deep_features_settings",
                ],
                name="check_feature_settings",
            ),
            Node(
                nodes.build_predict_extractor,
                ["predict_deep_features_settings", "densenet_weights_provenance"],
                "predict_extractor",
                name="build_predict_extractor",
            ),
            Node(
                nodes.validate_new_clinical,
                _by_name(
                    "predict_clinical",
                    "predict_manifest",
                    "integrated_nomogram_model",
                    "signature_model",
                    "analysis_table",
                    data_contract=CONTRACT,
                    nomogram="params:nomogram",
                ),
                "predict_clinical_checked",
                name="validate_new_clinical",
            ),
            # after every guard rail: its QC table is the run's first output
            Node(
                nodes.preprocess_new_patients,
                [
                    "predict_manifest",
                    "predict_clinical_checked",
                    CONTRACT,
                    "predict_preprocessing_settings",
                ],
                ["predict_crops", "predict_preprocessing_qc"],
                name="preprocess_new_patients",
            ),
            Node(
                nodes.extract_new_patient_features,
                ["predict_crops", "predict_extractor", CONTRACT, "predict_deep_features_settings"],
                "predict_deep_features",
                name="extract_new_patient_features",
            ),
            Node(
                nodes.predict_new_patients,
                _by_name(
                    "predict_deep_features",
                    "predict_clinical_checked",
                    "signature_model",
                    "integrated_nomogram_model",
                    "analysis_table",
                    "predict_preprocessing_qc",
                    "preprocessing_qc_records",
                    data_contract=CONTRACT,
                    predict="params:predict",
                ),
                ["patient_predictions", "patient_survival_curves"],
                name="predict_new_patients",
            ),
            Node(
                nodes.compute_patient_cams,
                [
                    "predict_crops",
                    "predict_extractor",
                    "signature_model",
                    CONTRACT,
                    "predict_deep_features_settings",
                ],
                "patient_cams",
                name="compute_patient_cams",
            ),
            Node(
                nodes.render_patient_pages,
                _by_name(
                    "patient_predictions",
                    "patient_survival_curves",
                    "patient_cams",
                    "predict_clinical_checked",
                    "integrated_nomogram_model",
                    "signature_model",
                    "densenet_weights_provenance",
                    data_contract=CONTRACT,
                    predict="params:predict",
                ),
                "patient_reports",
                name="render_patient_pages",
            ),
            Node(
                nodes.write_model_card,
                _by_name(
                    "signature_model",
                    "integrated_nomogram_model",
                    "densenet_weights_provenance",
                    "training_settings",
                    "analysis_table",
                    "signature_metrics",
                    "integrated_discrimination",
                    "integrated_bootstrap_validation",
                    "c_index_comparison",
                    "integrated_calibration_summary",
                    "predict_settings_check",
                    "predict_extractor",
                    data_contract=CONTRACT,
                    nomogram="params:nomogram",
                    predict="params:predict",
                ),
                "model_card",
                name="write_model_card",
            ),
        ],
        inputs=INTEGRATED,
    )
