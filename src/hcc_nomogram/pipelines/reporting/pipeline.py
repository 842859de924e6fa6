"""Wiring of the `reporting` pipeline.

One section pipeline per report section; each writes its figures to ``report_<name>_figure``
(Plotly JSON) and a section (in memory); ``assemble_report`` writes ``hcc_nomogram_report``
(one self-contained HTML file) and ``render_static_images`` writes ``report_<name>_png``.
"""

from kedro.pipeline import Node, Pipeline

from hcc_nomogram.parameters import CT_PHASES, NOMOGRAM_MODELS

from .nodes import (
    assemble_clinical_report,
    assemble_report,
    build_calculator_section,
    build_calibration_section,
    build_cam_extractor,
    build_cam_section,
    build_characteristics_section,
    build_cohort_section,
    build_decision_curves_section,
    build_discrimination_section,
    build_ingest_section,
    build_nomogram_section,
    build_preprocessing_section,
    build_provenance_section,
    build_reclassification_section,
    build_reproducibility_section,
    build_risk_groups_section,
    build_signature_section,
    build_smooth_calibration_section,
    build_tripod_section,
    compute_cam_panels,
    render_static_images,
)

P = "params:reporting"
C = "params:data_contract"

#: section -> figure names it writes (report_<name>_figure / report_<name>_png)
SECTION_FIGURES = {
    "cohort": ("km_os", "km_pfs"),
    "characteristics": (),
    "ingest": (),
    "preprocessing": ("registration", "sample_crops"),
    "reproducibility": ("icc",),
    "signature": ("signature_weights", "signature_cv", "signature_cindex"),
    "cam": ("cam",),
    "nomogram": ("nomogram_clinical", "nomogram_integrated"),
    "discrimination": ("model_cindex", "time_auc"),
    "calibration": ("calibration",),
    "calibration_smooth": ("calibration_smooth",),
    "decision_curves": ("decision_curves",),
    "reclassification": ("reclassification",),
    "risk_groups": ("risk_groups_training", "risk_groups_validation"),
    "calculator": (),
    "tripod_ai": (),
    "provenance": (),
}
#: Sections wired to the other pipelines' outputs, in report order.
WIRED_SECTIONS = tuple(SECTION_FIGURES)
#: Sections that need only the clinical table and the nomogram pipeline's outputs: the
#: clinical-only report (`kedro run --pipelines=reporting --tags=clinical_report`).
CLINICAL_SECTIONS = (
    "cohort",
    "characteristics",
    "nomogram",
    "discrimination",
    "calibration",
    "calibration_smooth",
    "decision_curves",
    "reclassification",
    "risk_groups",
)
CLINICAL_TAG = "clinical_report"


def _outputs(section: str) -> dict[str, str]:
    return {
        **{f: f"report_{f}_figure" for f in SECTION_FIGURES[section]},
        "section": f"report_{section}_section",
    }


def _by_model(prefix: str, dataset: str) -> dict[str, str]:
    """Map namespaced nomogram outputs in, so no node input holds a '.'."""
    return {f"{m}_{prefix}": f"{m}.{dataset}" for m in NOMOGRAM_MODELS}


def _tripod_pipeline(sections: tuple[str, ...]) -> Pipeline:
    """The TRIPOD+AI checklist; it reads the other sections of the report being built, so it
    links only to sections that exist."""
    others = [f"report_{s}_section" for s in sections if s != "tripod_ai"]
    per_model = [
        f"{m}_{d}"
        for m in NOMOGRAM_MODELS
        for d in ("discrimination", "bootstrap_validation", "calibration_summary")
    ]
    datasets = [
        "clinical_table",
        "preprocessing_qc",
        "multivariate_cox_table",
        *per_model,
        "c_index_comparison",
        "signature_metrics",
        "signature_weights",
        "risk_group_summary",
        "densenet_weights_provenance",
        *others,
    ]
    params = {
        "data_contract": C,
        "nomogram": "params:nomogram",
        "signature": "params:signature",
        "deep_features": "params:deep_features",
        "preprocessing": "params:preprocessing",
    }
    return Pipeline(
        [
            Node(
                build_tripod_section,
                {**{d: d for d in datasets}, **params},
                {
                    "checklist": "tripod_ai_checklist",
                    "markdown": "tripod_ai_checklist_md",
                    "section": "report_tripod_ai_section",
                },
                name="build_tripod_section",
            )
        ],
        inputs={
            **_by_model("discrimination", "discrimination"),
            **_by_model("bootstrap_validation", "bootstrap_validation"),
            **_by_model("calibration_summary", "calibration_summary"),
        },
    )


def section_pipelines(sections: tuple[str, ...] = WIRED_SECTIONS) -> dict[str, Pipeline]:
    return {
        "cohort": Pipeline(
            [
                Node(
                    build_cohort_section,
                    ["clinical_table", C, P],
                    _outputs("cohort"),
                    name="build_cohort_section",
                )
            ]
        ),
        "characteristics": Pipeline(
            [
                Node(
                    build_characteristics_section,
                    ["table1_characteristics", "cohort_survival"],
                    _outputs("characteristics"),
                    name="build_characteristics_section",
                )
            ]
        ),
        # ingest_qc_if_any: None when no ingest run exists (datasets.OptionalDataset)
        "ingest": Pipeline(
            [
                Node(
                    build_ingest_section,
                    ["ingest_qc_if_any", "preprocessing_qc", C],
                    _outputs("ingest"),
                    name="build_ingest_section",
                )
            ]
        ),
        "preprocessing": Pipeline(
            [
                Node(
                    build_preprocessing_section,
                    ["preprocessing_qc", "preprocessed_crops", C, P],
                    _outputs("preprocessing"),
                    name="build_preprocessing_section",
                )
            ]
        ),
        # the namespaced ICC tables are mapped in, so no node input holds a '.'
        "reproducibility": Pipeline(
            [
                Node(
                    build_reproducibility_section,
                    [*[f"{p}_icc_table" for p in CT_PHASES], "params:deep_features.icc"],
                    _outputs("reproducibility"),
                    name="build_reproducibility_section",
                )
            ],
            inputs={f"{p}_icc_table": f"{p}.icc_table" for p in CT_PHASES},
        ),
        "signature": Pipeline(
            [
                Node(
                    build_signature_section,
                    ["signature_weights", "signature_cv_results", "signature_metrics", P],
                    _outputs("signature"),
                    name="build_signature_section",
                )
            ]
        ),
        "cam": Pipeline(
            [
                Node(
                    build_cam_extractor,
                    ["densenet_weights_provenance", "params:deep_features"],
                    "report_cam_extractor",
                    name="build_cam_extractor",
                ),
                Node(
                    compute_cam_panels,
                    ["preprocessed_crops", "signature_weights", "report_cam_extractor", C, P],
                    "report_cam_panels",
                    name="compute_cam_panels",
                ),
                Node(
                    build_cam_section,
                    ["report_cam_panels", "densenet_weights_provenance", P],
                    _outputs("cam"),
                    name="build_cam_section",
                ),
            ]
        ),
        "nomogram": Pipeline(
            [
                Node(
                    build_nomogram_section,
                    {
                        "clinical_points": "clinical_points",
                        "clinical_scale": "clinical_scale",
                        "integrated_points": "integrated_points",
                        "integrated_scale": "integrated_scale",
                        "multivariate_cox_table": "multivariate_cox_table",
                        "reporting": P,
                    },
                    _outputs("nomogram"),
                    name="build_nomogram_section",
                )
            ],
            inputs={
                **_by_model("points", "nomogram_points"),
                **_by_model("scale", "nomogram_survival_scale"),
            },
        ),
        "discrimination": Pipeline(
            [
                Node(
                    build_discrimination_section,
                    ["clinical_discrimination", "integrated_discrimination", "c_index_comparison"],
                    _outputs("discrimination"),
                    name="build_discrimination_section",
                )
            ],
            inputs=_by_model("discrimination", "discrimination"),
        ),
        "calibration": Pipeline(
            [
                Node(
                    build_calibration_section,
                    [
                        "clinical_calibration",
                        "clinical_calibration_summary",
                        "integrated_calibration",
                        "integrated_calibration_summary",
                    ],
                    _outputs("calibration"),
                    name="build_calibration_section",
                )
            ],
            inputs={
                **_by_model("calibration", "calibration"),
                **_by_model("calibration_summary", "calibration_summary"),
            },
        ),
        "calibration_smooth": Pipeline(
            [
                Node(
                    build_smooth_calibration_section,
                    {
                        f"{m}_{d}": f"{m}_{d}"
                        for m in NOMOGRAM_MODELS
                        for d in ("calibration", "calibration_metrics", "calibration_curve")
                    },
                    _outputs("calibration_smooth"),
                    name="build_smooth_calibration_section",
                )
            ],
            inputs={
                **_by_model("calibration", "calibration"),
                **_by_model("calibration_metrics", "calibration_metrics"),
                **_by_model("calibration_curve", "calibration_curve"),
            },
        ),
        "decision_curves": Pipeline(
            [
                Node(
                    build_decision_curves_section,
                    ["decision_curves"],
                    _outputs("decision_curves"),
                    name="build_decision_curves_section",
                )
            ]
        ),
        "reclassification": Pipeline(
            [
                Node(
                    build_reclassification_section,
                    ["reclassification"],
                    _outputs("reclassification"),
                    name="build_reclassification_section",
                )
            ]
        ),
        "risk_groups": Pipeline(
            [
                Node(
                    build_risk_groups_section,
                    ["risk_group_km", "risk_group_summary", C, P],
                    _outputs("risk_groups"),
                    name="build_risk_groups_section",
                )
            ]
        ),
        "calculator": Pipeline(
            [
                Node(
                    build_calculator_section,
                    {
                        "clinical_nomogram_model": "clinical_nomogram_model",
                        "integrated_nomogram_model": "integrated_nomogram_model",
                        "analysis_table": "analysis_table",
                        "densenet_weights_provenance": "densenet_weights_provenance",
                        "data_contract": C,
                        "nomogram": "params:nomogram",
                        "predict": "params:predict",
                    },
                    {"page": "nomogram_calculator", "section": "report_calculator_section"},
                    name="build_calculator_section",
                )
            ],
            inputs=_by_model("nomogram_model", "nomogram_model"),
        ),
        "tripod_ai": _tripod_pipeline(sections),
        "provenance": Pipeline(
            [
                Node(
                    build_provenance_section,
                    ["densenet_weights_provenance", P, "params:deep_features", C],
                    {"section": "report_provenance_section", "banners": "report_banners"},
                    name="build_provenance_section",
                )
            ]
        ),
    }


def create_pipeline(sections: tuple[str, ...] = WIRED_SECTIONS, **kwargs) -> Pipeline:
    """The report with ``sections`` (all by default), plus the clinical-only report: the
    sections of :data:`CLINICAL_SECTIONS` (tagged ``clinical_report``) assembled into
    ``hcc_nomogram_clinical_report`` for users without images (docs/reporting.md)."""
    parts = section_pipelines(sections)
    clinical = tuple(s for s in sections if s in CLINICAL_SECTIONS)
    other = tuple(s for s in sections if s not in CLINICAL_SECTIONS)
    tagged = sum((parts[s].tag([CLINICAL_TAG, f"report_{s}"]) for s in clinical), Pipeline([]))
    untagged = sum((parts[s].tag(f"report_{s}") for s in other), Pipeline([]))
    full = Pipeline(
        [
            Node(
                assemble_report,
                [P, "report_banners", *[f"report_{s}_section" for s in sections]],
                "hcc_nomogram_report",
                name="assemble_report",
            )
        ]
    )
    static_other = [f for s in other for f in SECTION_FIGURES[s]]
    static_clinical = [f for s in clinical for f in SECTION_FIGURES[s]]
    finish = [full]
    if static_other:
        finish.append(
            Pipeline(
                [
                    Node(
                        render_static_images,
                        {"reporting": P, **{f: f"report_{f}_figure" for f in static_other}},
                        {f: f"report_{f}_png" for f in static_other},
                        name="render_static_images",
                    )
                ]
            )
        )
    if clinical:
        finish.append(
            Pipeline(
                [
                    Node(
                        assemble_clinical_report,
                        [P, *[f"report_{s}_section" for s in clinical]],
                        "hcc_nomogram_clinical_report",
                        name="assemble_clinical_report",
                    ),
                    *(
                        [
                            Node(
                                render_static_images,
                                {
                                    "reporting": P,
                                    **{f: f"report_{f}_figure" for f in static_clinical},
                                },
                                {f: f"report_{f}_png" for f in static_clinical},
                                name="render_clinical_static_images",
                            )
                        ]
                        if static_clinical
                        else []
                    ),
                ],
                tags=[CLINICAL_TAG],
            )
        )
    return tagged + untagged + sum(finish, Pipeline([]))
