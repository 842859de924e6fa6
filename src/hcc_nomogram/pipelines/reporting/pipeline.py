"""Wiring of the `reporting` pipeline.

One section pipeline per report section; each writes its figures to ``report_<name>_figure``
(Plotly JSON) and a section (in memory); ``assemble_report`` writes ``hcc_nomogram_report``
(one self-contained HTML file) and ``render_static_images`` writes ``report_<name>_png``.
"""

from kedro.pipeline import Node, Pipeline

from .nodes import (
    assemble_report,
    build_cam_extractor,
    build_cam_section,
    build_cohort_section,
    build_preprocessing_section,
    build_provenance_section,
    build_reproducibility_section,
    build_signature_section,
    compute_cam_panels,
    render_static_images,
)

P = "params:reporting"
C = "params:data_contract"

#: section -> figure names it writes (report_<name>_figure / report_<name>_png)
SECTION_FIGURES = {
    "cohort": ("km_os", "km_pfs"),
    "preprocessing": ("registration", "sample_crops"),
    "reproducibility": ("icc",),
    "signature": ("signature_weights", "signature_cv", "signature_cindex"),
    "cam": ("cam",),
    "provenance": (),
}
#: Sections wired to the other pipelines' outputs, in report order.
WIRED_SECTIONS = ("cohort", "preprocessing", "reproducibility", "provenance")


def _outputs(section: str) -> dict[str, str]:
    return {**{f: f"report_{f}_figure" for f in SECTION_FIGURES[section]},
            "section": f"report_{section}_section"}


def section_pipelines() -> dict[str, Pipeline]:
    return {
        "cohort": Pipeline([Node(build_cohort_section, ["clinical_table", C, P],
                                 _outputs("cohort"), name="build_cohort_section")]),
        "preprocessing": Pipeline([Node(
            build_preprocessing_section, ["preprocessing_qc", "preprocessed_crops", C, P],
            _outputs("preprocessing"), name="build_preprocessing_section")]),
        # the namespaced ICC tables are mapped in, so no node input holds a '.'
        "reproducibility": Pipeline(
            [Node(build_reproducibility_section,
                  ["arterial_icc_table", "portal_icc_table", "params:deep_features.icc"],
                  _outputs("reproducibility"), name="build_reproducibility_section")],
            inputs={"arterial_icc_table": "arterial.icc_table",
                    "portal_icc_table": "portal.icc_table"}),
        "signature": Pipeline([Node(
            build_signature_section,
            ["signature_weights", "signature_cv_results", "signature_metrics", P],
            _outputs("signature"), name="build_signature_section")]),
        "cam": Pipeline([
            Node(build_cam_extractor, "densenet_weights_provenance", "report_cam_extractor",
                 name="build_cam_extractor"),
            Node(compute_cam_panels,
                 ["preprocessed_crops", "signature_weights", "report_cam_extractor", C, P],
                 "report_cam_panels", name="compute_cam_panels"),
            Node(build_cam_section, ["report_cam_panels", "densenet_weights_provenance", P],
                 _outputs("cam"), name="build_cam_section"),
        ]),
        "provenance": Pipeline([Node(
            build_provenance_section,
            ["densenet_weights_provenance", P, "params:deep_features", C],
            {"section": "report_provenance_section", "banners": "report_banners"},
            name="build_provenance_section")]),
    }


def create_pipeline(sections: tuple[str, ...] = WIRED_SECTIONS, **kwargs) -> Pipeline:
    parts = section_pipelines()
    figures = [f for s in sections for f in SECTION_FIGURES[s]]
    finish = Pipeline([
        Node(assemble_report, [P, "report_banners", *[f"report_{s}_section" for s in sections]],
             "hcc_nomogram_report", name="assemble_report"),
        Node(render_static_images,
             {"reporting": P, **{f: f"report_{f}_figure" for f in figures}},
             {f: f"report_{f}_png" for f in figures}, name="render_static_images"),
    ])
    return sum((parts[s] for s in sections), Pipeline([])) + finish
