"""The TRIPOD+AI checklist, filled from one run's own records.

TRIPOD+AI (Collins et al., BMJ 2024;385:e078378) updates TRIPOD 2015 for prediction models
built with regression or machine learning: 27 numbered items, several with lettered sub-items,
numbered here as in the published checklist. :data:`CHECKLIST` holds each item with a short
paraphrase of its recommendation (not the checklist's wording: read the paper when writing).

:func:`fill_checklist` answers each item the run can answer from its records (cohort sizes,
events, missing data, exclusions, predictors, model specification, internal and temporal /
external validation, performance with 95% CIs, calibration, weights provenance, software
versions), marks the items only the authors can answer, and names the report sections that
show the evidence (only sections present in the report being built, so no link dangles).

Status of an item: ``run`` (answered from the run's records), ``run + authors`` (the run gives
part of the answer; the authors must complete it) or ``authors`` (only the authors know).
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from hcc_nomogram.datasets.tables import cohort_rows, outcome_columns
from hcc_nomogram.parameters import DataContract
from hcc_nomogram.report.html import Section
from hcc_nomogram.stats.design import fit_terms

RUN, PARTLY, AUTHORS = "run", "run + authors", "authors"
REFERENCE = (
    "Collins GS, Moons KGM, Dhiman P, et al. TRIPOD+AI statement: updated guidance for "
    "reporting clinical prediction models that use regression or machine learning "
    "methods. BMJ 2024;385:e078378."
)


@dataclass(frozen=True)
class Item:
    """One checklist item: number (``"12c"``), part of the paper, topic, recommendation."""

    item: str
    part: str
    topic: str
    recommendation: str


def _items(part: str, topic: str, *rows: tuple[str, str]) -> list[Item]:
    return [Item(number, part, topic, text) for number, text in rows]


#: The 27 items (with sub-items) of TRIPOD+AI, paraphrased.
CHECKLIST: tuple[Item, ...] = tuple(
    [
        *_items(
            "Title and abstract",
            "Title",
            (
                "1",
                "Say that the study develops or evaluates a "
                "multivariable prediction model, for which target population and which outcome.",
            ),
        ),
        *_items(
            "Title and abstract",
            "Abstract",
            ("2", "Report the items of the TRIPOD+AI for Abstracts checklist."),
        ),
        *_items(
            "Introduction",
            "Background",
            (
                "3a",
                "Explain the healthcare context (diagnostic or prognostic) and why the model "
                "is developed or evaluated, citing existing models.",
            ),
            (
                "3b",
                "Describe the target population and the model's intended purpose in the care "
                "pathway, including its intended users.",
            ),
            ("3c", "Describe known health inequalities between sociodemographic groups."),
        ),
        *_items(
            "Introduction",
            "Objectives",
            (
                "4",
                "State the objectives, including whether the "
                "study develops the model, evaluates it, or both.",
            ),
        ),
        *_items(
            "Methods",
            "Data",
            (
                "5a",
                "Describe the data sources of the development and evaluation data, why they "
                "were used and how representative they are.",
            ),
            (
                "5b",
                "Give the dates of data collection: start and end of accrual and, where "
                "relevant, end of follow-up.",
            ),
        ),
        *_items(
            "Methods",
            "Participants",
            ("6a", "Give the study setting, including the number and location of centres."),
            ("6b", "Describe the eligibility criteria of participants."),
            ("6c", "Describe treatments received and how they were handled, if relevant."),
        ),
        *_items(
            "Methods",
            "Data preparation",
            (
                "7",
                "Describe data pre-processing and quality "
                "checks, and whether they were similar across sociodemographic groups.",
            ),
        ),
        *_items(
            "Methods",
            "Outcome",
            (
                "8a",
                "Define the predicted outcome and its time horizon, how and when it was "
                "assessed, why it was chosen, and whether assessment was consistent across "
                "groups.",
            ),
            (
                "8b",
                "If outcome assessment needs subjective interpretation, describe the "
                "assessors' qualifications and demographics.",
            ),
            ("8c", "Report any blinding of the outcome assessment."),
        ),
        *_items(
            "Methods",
            "Predictors",
            (
                "9a",
                "Describe how the initial predictors were chosen and any pre-selection "
                "before model building.",
            ),
            ("9b", "Define every predictor, how and when it was measured, and any blinding."),
            (
                "9c",
                "If predictor measurement needs subjective interpretation, describe the "
                "assessors' qualifications and demographics.",
            ),
        ),
        *_items(
            "Methods",
            "Sample size",
            (
                "10",
                "Explain how the study size was reached for "
                "development and evaluation and justify that it is sufficient, with any sample "
                "size calculation.",
            ),
        ),
        *_items(
            "Methods",
            "Missing data",
            ("11", "Describe how missing data were handled and why any data were omitted."),
        ),
        *_items(
            "Methods",
            "Analytical methods",
            (
                "12a",
                "Describe how the data were used for development and evaluation, including "
                "any partitioning.",
            ),
            (
                "12b",
                "Describe how predictors were handled: functional form, rescaling, "
                "transformation, standardisation.",
            ),
            (
                "12c",
                "Give the type of model, why, every model-building step including "
                "hyperparameter tuning, and the internal validation method.",
            ),
            (
                "12d",
                "Describe whether and how heterogeneity of parameters and performance across "
                "clusters (e.g. centres) was handled and quantified.",
            ),
            (
                "12e",
                "Give every performance measure and plot (discrimination, calibration, "
                "clinical utility) and how models were compared.",
            ),
            ("12f", "Describe any model updating (e.g. recalibration) after evaluation."),
            (
                "12g",
                "For evaluation, describe how predictions were calculated (formula, code, "
                "object, API).",
            ),
        ),
        *_items(
            "Methods",
            "Class imbalance",
            (
                "13",
                "If class imbalance methods were used, say why "
                "and how, and how predictions were recalibrated.",
            ),
        ),
        *_items(
            "Methods",
            "Fairness",
            ("14", "Describe any approach used to address model fairness, and why."),
        ),
        *_items(
            "Methods",
            "Model output",
            (
                "15",
                "Specify the model's output (probabilities, "
                "classes) and how and why any classification thresholds were chosen.",
            ),
        ),
        *_items(
            "Methods",
            "Training versus evaluation",
            (
                "16",
                "Identify differences between "
                "development and evaluation data in setting, eligibility, outcome and predictors.",
            ),
        ),
        *_items(
            "Methods",
            "Ethical approval",
            (
                "17",
                "Name the ethics committee that approved the "
                "study and describe consent or its waiver.",
            ),
        ),
        *_items(
            "Open science",
            "Funding / conflicts / protocol / registration / sharing",
            ("18a", "Give the sources of funding and the funders' role."),
            ("18b", "Declare conflicts of interest and financial disclosures."),
            ("18c", "Say where the protocol can be accessed, or that there is none."),
            (
                "18d",
                "Give the study registration (register and number), or say it was not registered.",
            ),
            ("18e", "Give details of the availability of the study data."),
            ("18f", "Give details of the availability of the analytical code."),
        ),
        *_items(
            "Patient and public involvement",
            "Patient and public involvement",
            (
                "19",
                "Describe "
                "patient and public involvement in design, conduct, reporting or dissemination, or "
                "state that there was none.",
            ),
        ),
        *_items(
            "Results",
            "Participants",
            (
                "20a",
                "Describe the flow of participants, the numbers with and without the "
                "outcome and a summary of follow-up (a diagram may help).",
            ),
            (
                "20b",
                "Report characteristics overall and per data source or setting: dates, key "
                "predictors, treatments, sample size, events, follow-up, missing data.",
            ),
            (
                "20c",
                "For evaluation, compare the distribution of important predictors with the "
                "development data.",
            ),
        ),
        *_items(
            "Results",
            "Model development",
            (
                "21",
                "Give the number of participants and events "
                "in each analysis (development, tuning, evaluation).",
            ),
        ),
        *_items(
            "Results",
            "Model specification",
            (
                "22",
                "Give the full model (formula, code, "
                "object or API) so that others can predict for new individuals and evaluate it, "
                "and any restriction of access or re-use.",
            ),
        ),
        *_items(
            "Results",
            "Model performance",
            (
                "23a",
                "Report performance estimates with confidence intervals, including for key "
                "subgroups.",
            ),
            ("23b", "If examined, report heterogeneity of performance across clusters."),
        ),
        *_items(
            "Results",
            "Model updating",
            (
                "24",
                "Report the results of any model updating, "
                "with the updated model and its performance.",
            ),
        ),
        *_items(
            "Discussion",
            "Interpretation",
            (
                "25",
                "Interpret the main results, including "
                "fairness, in the light of the objectives and previous studies.",
            ),
        ),
        *_items(
            "Discussion",
            "Limitations",
            (
                "26",
                "Discuss the limitations (non-representative "
                "sample, sample size, overfitting, missing data) and their effect on bias, "
                "uncertainty and generalisability.",
            ),
        ),
        *_items(
            "Discussion",
            "Usability of the model",
            (
                "27a",
                "Describe how poor-quality or missing input data should be assessed and "
                "handled when the model is used.",
            ),
            (
                "27b",
                "Say whether users must interact with the input data or the model, and the "
                "expertise they need.",
            ),
            (
                "27c",
                "Discuss next steps for research, with a view to applicability and "
                "generalisability.",
            ),
        ),
    ]
)


@dataclass(frozen=True)
class Answer:
    """What the run says about one item, and the report sections that show it."""

    status: str
    text: str = ""
    sections: tuple[str, ...] = ()


def _authors(hint: str = "") -> Answer:
    return Answer(AUTHORS, hint)


def _ci(row: Mapping[str, Any], value: str, lo: str, hi: str) -> str:
    return f"{row[value]:.3f} (95% CI {row[lo]:.3f}-{row[hi]:.3f})"


@dataclass(frozen=True)
class RunRecords:
    """The run's own records, as the checklist needs them (see :func:`fill_checklist`)."""

    cohorts: pd.DataFrame  # cohort, n_patients, n_events, n_centres, n_complete, n_missing_model
    outcome: str  # e.g. "os (time os_months, event os_event = 1: death)"
    horizons: Sequence[float]
    candidate_factors: Sequence[str]  # display labels
    n_candidate_parameters: int
    screening: str  # the univariate screening and stepwise rule
    selected: Mapping[str, Sequence[str]]  # model -> "label: HR (95% CI)"
    image_qc: str  # patients checked / excluded and why
    preprocessing: str  # registration, crop, intensity settings
    signature: str  # features, selection and CV settings
    weights: str  # DenseNet weights provenance in words
    random_weights: bool
    discrimination: pd.DataFrame  # model, cohort, n, n_events, c_index, c_ci_lower, c_ci_upper
    comparison: pd.DataFrame  # cohort, delta, p_value
    bootstrap: pd.DataFrame  # model, c_apparent, optimism, c_corrected, n_bootstrap
    calibration: pd.DataFrame  # model, cohort, horizon, rmse
    signature_metrics: pd.DataFrame  # cohort, c_index, ci_lower, ci_upper
    risk_groups: pd.DataFrame  # model, cohort, lp_cutoff, hr_high_vs_low, hr_ci_lower/upper
    versions: Mapping[str, str]
    validation_type: str = ""  # from the centres of each cohort


def validation_type(training_centres: Iterable, validation_centres: Iterable) -> str:
    """What kind of validation the cohort split is, judged from the centres alone."""
    train, valid = set(map(str, training_centres)), set(map(str, validation_centres))
    if not valid:
        return "no validation cohort: internal validation (bootstrap) only"
    if not train & valid:
        return (
            f"external validation: the validation cohort comes from other centre(s) "
            f"({', '.join(sorted(valid))}) than training ({', '.join(sorted(train))})"
        )
    if valid <= train:
        return (
            "validation cohort from the training centre(s): split-sample or temporal "
            "validation (which one: authors)"
        )
    return (
        f"validation cohort partly from other centre(s) ({', '.join(sorted(valid - train))})"
        " than training"
    )


def _per_cohort(records: RunRecords) -> str:
    return "; ".join(
        f"{r.cohort}: {r.n_patients} patients, {r.n_events} events, {r.n_centres} centre(s)"
        for r in records.cohorts.itertuples()
    )


def _performance(records: RunRecords) -> str:
    parts = [
        f"{r.model} nomogram, {r.cohort}: C "
        f"{_ci(r._asdict(), 'c_index', 'c_ci_lower', 'c_ci_upper')}"
        for r in records.discrimination.itertuples()
    ]
    parts += [
        f"signature, {r.cohort}: C {_ci(r._asdict(), 'c_index', 'ci_lower', 'ci_upper')}"
        for r in records.signature_metrics.itertuples()
    ]
    parts += [
        f"integrated - clinical C, {r.cohort}: {r.delta:+.3f} (paired P {r.p_value:.3g})"
        for r in records.comparison.itertuples()
        if pd.notna(r.delta)
    ]
    return "; ".join(parts)


def _answers(r: RunRecords) -> dict[str, Answer]:
    """Every item's answer (absent items are ``authors``)."""
    horizons = "/".join(f"{h:g}" for h in r.horizons)
    training = r.cohorts.iloc[0]
    epv = training.n_events / max(r.n_candidate_parameters, 1)
    boot = "; ".join(
        f"{b.model}: apparent C {b.c_apparent:.3f}, optimism {b.optimism:.3f}, "
        f"corrected C {b.c_corrected:.3f} ({b.n_bootstrap} resamples)"
        for b in r.bootstrap.itertuples()
    )
    calib = "; ".join(
        f"{c.model} {c.cohort} {c.horizon:g} mo: RMSE {c.rmse:.3f}"
        for c in r.calibration.itertuples()
    )
    models = "; ".join(f"{m}: {', '.join(v)}" for m, v in r.selected.items())
    cut = "; ".join(
        f"{g.model} {g.cohort}: LP cut-off {g.lp_cutoff:.4f}, HR high vs low "
        f"{g.hr_high_vs_low:.2f} ({g.hr_ci_lower:.2f}-{g.hr_ci_upper:.2f})"
        for g in r.risk_groups.itertuples()
    )
    missing = "; ".join(
        f"{c.cohort}: {c.n_missing_model} of {c.n_patients} without a complete "
        "set of model variables"
        for c in r.cohorts.itertuples()
    )
    weights_note = (
        " RANDOM weights: the signature and integrated nomogram are not the paper's method."
        if r.random_weights
        else ""
    )
    return {
        "1": Answer(
            PARTLY,
            "The run develops (training cohort) and validates (validation "
            f"cohort) Cox nomograms predicting {r.outcome.split(' ')[0].upper()} "
            "(clinical factors, and clinical factors + CT deep-learning signature); the "
            "title itself is the authors'.",
        ),
        "2": _authors("Write from the numbers of items 20-23."),
        "3a": _authors("Zhang et al., Front. Oncol. 2020;10:593292 is the model reproduced."),
        "3b": _authors("The software states: research use only, not a medical device."),
        "4": Answer(
            PARTLY,
            "Development of a clinical and an integrated nomogram on the "
            "training cohort and their evaluation on the validation cohort.",
            ("cohort",),
        ),
        "5a": Answer(
            PARTLY, _per_cohort(r) + ". Data sources and representativeness: authors.", ("cohort",)
        ),
        "6a": Answer(PARTLY, _per_cohort(r) + ". Setting and locations: authors.", ("cohort",)),
        "6b": Answer(
            PARTLY,
            "Exclusions made by the run: " + r.image_qc + "; complete-case "
            "analysis of model variables (" + missing + "). Eligibility criteria: "
            "authors.",
            ("preprocessing", "characteristics"),
        ),
        "7": Answer(
            RUN,
            r.preprocessing + "; " + r.image_qc + ". Checks were the same for every "
            "patient; not examined by sociodemographic group.",
            ("preprocessing", "reproducibility"),
        ),
        "8a": Answer(
            PARTLY,
            f"Outcome {r.outcome}; predicted at {horizons} months. How and when "
            "assessed, and why: authors.",
            ("cohort", "characteristics"),
        ),
        "9a": Answer(
            RUN,
            f"Candidate clinical factors ({len(r.candidate_factors)}): "
            f"{', '.join(r.candidate_factors)}; plus the deep-learning signature in the "
            f"integrated model. {r.screening}",
            ("nomogram", "signature"),
        ),
        "9b": Answer(
            PARTLY,
            "Factor definitions (levels, cut-offs, units) as listed in 9a and "
            "Table 1; deep features: " + r.signature + ". When and how measured: "
            "authors.",
            ("characteristics", "signature"),
        ),
        "9c": Answer(
            PARTLY,
            "Tumour delineations by reader 1 (twice) and reader 2; deep features "
            "kept only when reproducible across the three (ICC). Readers' "
            "qualifications: authors.",
            ("reproducibility",),
        ),
        "10": Answer(
            PARTLY,
            _per_cohort(r) + f". Training events per candidate parameter: "
            f"{training.n_events} / {r.n_candidate_parameters} = {epv:.1f}. Sample size "
            "justification: authors.",
            ("cohort",),
        ),
        "11": Answer(
            RUN,
            "Complete-case analysis, no imputation: " + missing + ". Images: " + r.image_qc + ".",
            ("characteristics", "preprocessing"),
        ),
        "12a": Answer(
            RUN,
            "Pre-specified split by the cohort column: every selection and fit "
            "(features, signature, nomograms, risk cut-off) on the training cohort "
            f"only; the validation cohort is only scored ({r.validation_type}). "
            "Internal validation by bootstrap within training.",
            ("signature", "nomogram", "discrimination"),
        ),
        "12b": Answer(
            RUN,
            "Clinical factors: categorical levels against a reference, binary "
            "cut-offs as listed in 9a; signature: linear, rescaled to [0, 1] on "
            "training, HR per 0.2; deep features z-scored with training mean/SD.",
            ("nomogram", "signature"),
        ),
        "12c": Answer(
            RUN,
            "Signature: " + r.signature + ". Nomograms: Cox proportional hazards "
            f"(Efron ties). {r.screening} Internal validation: bootstrap optimism with "
            f"the whole selection repeated per resample ({boot}).",
            ("signature", "nomogram", "discrimination"),
        ),
        "12d": Answer(
            RUN,
            "Not examined: centres are recorded (5a) but performance and "
            "parameters are not estimated per centre.",
            ("cohort",),
        ),
        "12e": Answer(
            RUN,
            "Harrell's C with 95% CI (infinitesimal jackknife) and the paired "
            "test integrated vs clinical; time-dependent AUC; integrated Brier score; "
            "grouped calibration (KM observed vs predicted, RMSE); risk-group "
            "Kaplan-Meier curves, log-rank test and HR",
            (
                "discrimination",
                "calibration",
                "calibration_smooth",
                "decision_curves",
                "reclassification",
                "risk_groups",
            ),
        ),
        "12f": Answer(RUN, "None: the models are evaluated as developed (no recalibration)."),
        "12g": Answer(
            RUN,
            "S(t | x) = S0(t) ** exp(LP), LP = sum of coefficients x factors "
            "(uncentred), S0 the Breslow baseline of the training fit; the frozen "
            "models are pickled datasets reused by the predict pipeline and the "
            "offline calculator page.",
            ("nomogram", "calculator"),
        ),
        "13": Answer(
            RUN,
            "Not applicable: time-to-event Cox models on all patients; no "
            "resampling or weighting of events.",
        ),
        "14": Answer(
            PARTLY,
            "No fairness method is applied by the run; subgroup performance is "
            "not computed. Rationale and discussion: authors.",
        ),
        "15": Answer(
            RUN,
            f"Predicted survival probabilities at {horizons} months, linear "
            "predictor and nomogram points (higher = worse); risk groups high/low at the "
            "training median LP, chosen a priori as in the paper: " + cut + ".",
            ("nomogram", "risk_groups", "calculator"),
        ),
        "16": Answer(
            PARTLY,
            "Table 1 compares every factor between training and validation "
            f"(Fisher / Mann-Whitney P); {r.validation_type}; same outcome and predictor "
            "definitions by construction. Differences in setting or eligibility: "
            "authors.",
            ("characteristics",),
        ),
        "18f": Answer(
            PARTLY,
            "Analysis code: hcc-nomogram "
            + r.versions.get("hcc-nomogram", "?")
            + " (Kedro pipelines) with "
            + ", ".join(f"{k} {v}" for k, v in sorted(r.versions.items()) if k != "hcc-nomogram")
            + "; repository address and licence: authors.",
            ("provenance",),
        ),
        "20a": Answer(
            PARTLY,
            _per_cohort(r) + "; " + r.image_qc + "; " + missing + ". "
            "Follow-up summary and flow diagram: authors.",
            ("cohort", "preprocessing", "characteristics"),
        ),
        "20b": Answer(
            RUN,
            "Table 1 by cohort, median OS/PFS (95% CI), missing model variables: " + missing + ".",
            ("characteristics", "cohort"),
        ),
        "20c": Answer(
            RUN,
            "Table 1: training vs validation distributions with P values.",
            ("characteristics",),
        ),
        "21": Answer(
            RUN,
            "; ".join(
                f"{d.model} nomogram, {d.cohort}: {d.n} patients, {d.n_events} events"
                for d in r.discrimination.itertuples()
            )
            + f"; bootstrap: {boot}.",
            ("signature", "nomogram", "discrimination"),
        ),
        "22": Answer(
            RUN,
            "Selected factors with HR (95% CI): " + models + ". The full models "
            "(coefficients, baseline survival, points scale, risk cut-off) are the "
            "pickled nomogram models and the calculator page of this run.",
            ("nomogram", "calculator"),
        ),
        "23a": Answer(
            RUN,
            _performance(r) + ". Calibration: " + calib + ". Subgroups: not examined.",
            ("discrimination", "signature", "calibration", "calibration_smooth"),
        ),
        "23b": Answer(RUN, "Not examined (see 12d).", ()),
        "24": Answer(RUN, "No model updating.", ()),
        "26": Answer(
            PARTLY,
            "Known to the run: single-slice 2D deep features from one CT slice "
            f"per phase; {training.n_events} training events for "
            f"{r.n_candidate_parameters} candidate parameters; complete-case analysis. "
            + r.weights
            + "."
            + weights_note
            + " Discussion: authors.",
            ("provenance", "cohort"),
        ),
        "27a": Answer(
            RUN,
            "The predict pipeline refuses a missing value, an unseen level or "
            "other feature-extraction settings or weights, and warns for values outside "
            "the training range; the calculator shows the training ranges and warns "
            "outside them.",
            ("calculator",),
        ),
        "27b": Answer(
            PARTLY,
            "Users supply two-phase CT with a tumour delineation and the "
            "clinical factors; the calculator needs the factors and the signature "
            "score. Expertise needed: authors.",
            ("calculator",),
        ),
    }


#: Performance measures of optional report sections, named in item 12e when present.
FURTHER_MEASURES = {
    "calibration_smooth": "calibration slope, O/E and ICI/E50/E90 of a smoothed calibration curve",
    "decision_curves": "decision curve analysis (net benefit vs treat all / none)",
    "reclassification": "continuous and categorical NRI and IDI, integrated vs clinical",
}


def fill_checklist(records: RunRecords, report_sections: Iterable[str]) -> pd.DataFrame:
    """One row per item: item, part, topic, recommendation, status, answer, report_sections
    (``;``-separated ids of sections present in ``report_sections``)."""
    present = set(report_sections)
    answers = _answers(records)
    e = answers["12e"]
    answers["12e"] = Answer(
        e.status,
        "; ".join([e.text, *[m for s, m in FURTHER_MEASURES.items() if s in present]]) + ".",
        e.sections,
    )
    rows = []
    for item in CHECKLIST:
        answer = answers.get(item.item, _authors())
        rows.append(
            {
                "item": item.item,
                "part": item.part,
                "topic": item.topic,
                "recommendation": item.recommendation,
                "status": answer.status,
                "answer": answer.text or "Only the authors can answer.",
                "report_sections": ";".join(s for s in answer.sections if s in present),
            }
        )
    return pd.DataFrame(rows)


def checklist_markdown(checklist: pd.DataFrame, *, report_file: str) -> str:
    """The filled checklist as Markdown, section links pointing into ``report_file``."""

    def cell(text: str) -> str:
        return str(text).replace("|", "\\|").replace("\n", " ")

    counts = checklist["status"].value_counts()
    lines = [
        "# TRIPOD+AI checklist (filled by hcc-nomogram from this run)",
        "",
        REFERENCE,
        "",
        f"Items answered from the run: {counts.get(RUN, 0)}; partly (authors complete): "
        f"{counts.get(PARTLY, 0)}; authors only: {counts.get(AUTHORS, 0)}.",
        "",
        "| Item | Topic | Status | From this run | Report section |",
        "|---|---|---|---|---|",
    ]
    for row in checklist.itertuples():
        links = ", ".join(f"[{s}]({report_file}#{s})" for s in row.report_sections.split(";") if s)
        lines.append(
            f"| {row.item} | {cell(row.topic)} | {row.status} | {cell(row.answer)} | {links} |"
        )
    return "\n".join(lines) + "\n"


def checklist_section(checklist: pd.DataFrame) -> Section:
    """Report section ``tripod_ai``: the checklist with links to the sections it cites."""
    sec = Section("tripod_ai", "TRIPOD+AI checklist")
    counts = checklist["status"].value_counts()
    sec.text(
        f"{REFERENCE} Each item is answered from this run's records where it can be "
        f"({counts.get(RUN, 0)} items), partly ({counts.get(PARTLY, 0)}: the authors "
        f"complete them) or left to the authors ({counts.get(AUTHORS, 0)}). Saved as the "
        "datasets tripod_ai_checklist (CSV) and tripod_ai_checklist_md (Markdown)."
    )
    body = []
    for row in checklist.itertuples():
        links = ", ".join(
            f'<a href="#{html.escape(s)}">{html.escape(s)}</a>'
            for s in row.report_sections.split(";")
            if s
        )
        body.append(
            f'<tr data-item="{html.escape(row.item)}" data-status="{html.escape(row.status)}">'
            f"<td>{html.escape(row.item)}</td><td>{html.escape(row.topic)}</td>"
            f"<td>{html.escape(row.recommendation)}</td><td>{html.escape(row.status)}</td>"
            f"<td>{html.escape(row.answer)}</td><td>{links}</td></tr>"
        )
    sec.html(
        '<table class="report-table" id="tripod-ai-table"><tr><th>Item</th><th>Topic</th>'
        "<th>Recommendation (paraphrased)</th><th>Status</th><th>From this run</th>"
        f"<th>Shown in</th></tr>{''.join(body)}</table>"
    )
    return sec


def _available(tables: Mapping[str, pd.DataFrame | None], columns: Sequence[str]) -> pd.DataFrame:
    """Rows of the available per-model tables (``model`` column added), ``columns`` only."""
    from hcc_nomogram.report.sections import is_available

    frames = [
        t.assign(model=m)[["model", *columns]]
        for m, t in tables.items()
        if is_available(t) and all(c in t for c in columns)
    ]
    return (
        pd.concat(frames, ignore_index=True)
        if frames
        else pd.DataFrame(columns=["model", *columns])
    )


def run_records(  # noqa: PLR0913  one argument per upstream table / parameter block (its node's inputs)
    *,
    clinical_table: pd.DataFrame,
    preprocessing_qc: pd.DataFrame,
    multivariate_cox_table: pd.DataFrame,
    discrimination: Mapping[str, pd.DataFrame],
    comparison: pd.DataFrame,
    bootstrap: Mapping[str, pd.DataFrame],
    calibration: Mapping[str, pd.DataFrame],
    signature_metrics: pd.DataFrame,
    signature_weights: pd.DataFrame,
    risk_group_summary: pd.DataFrame,
    provenance: Mapping[str, Any],
    data_contract: DataContract,
    nomogram,
    signature,
    icc_threshold: float,
    preprocessing,
    versions: Mapping[str, str],
) -> RunRecords:
    """:class:`RunRecords` from the upstream datasets and typed parameters (``nomogram``:
    ``NomogramParams``, ``signature``: ``SignatureParams``, ``preprocessing``:
    ``PreprocessingSettings``)."""
    dc = data_contract
    time_col, event_col = outcome_columns(
        dc, nomogram.primary_outcome, setting="nomogram.primary_outcome"
    )
    cohort_col = dc.cohort_column
    factors = list(nomogram.candidate_factors)
    model_cols = [time_col, event_col, *[f.column or f.name for f in factors]]
    train = cohort_rows(clinical_table, dc)
    # candidate parameters: the design columns of the univariate screening (stats.design)
    candidates = fit_terms(train, nomogram.terms())
    if nomogram.signature is not None:
        candidates.append(nomogram.signature.term())
    n_params = sum(len(t.columns()) for t in candidates)
    cohorts = []
    for value in (dc.training_value, dc.validation_value):
        sub = clinical_table[clinical_table[cohort_col] == value]
        complete = sub[[c for c in model_cols if c in sub]].notna().all(axis=1)
        cohorts.append(
            {
                "cohort": value,
                "n_patients": len(sub),
                "n_events": int(pd.to_numeric(sub[event_col]).sum()),
                "n_centres": int(sub[dc.center_column].nunique()),
                "n_complete": int(complete.sum()),
                "n_missing_model": int((~complete).sum()),
            }
        )
    excluded = preprocessing_qc[preprocessing_qc["excluded"].astype(bool)]
    reasons = "; ".join(
        f"{r[dc.id_column]}: {r['exclusion_reason']}" for _, r in excluded.head(3).iterrows()
    )
    image_qc = (
        f"{len(preprocessing_qc)} patients' CT and masks checked, {len(excluded)} "
        "excluded" + (f" ({reasons}{'; ...' if len(excluded) > 3 else ''})" if reasons else "")
    )
    reg, crop, inten = preprocessing.registration, preprocessing.crop, preprocessing.intensity
    prep = (
        f"registration {'on' if reg.enabled else 'off'} (fixed phase {reg.fixed_phase}); "
        f"largest-tumour-area slice cropped to {crop.size}x{crop.size} px around the tumour; "
        f"intensities z-scored over the {inten.normalization}"
        + (f" after a {inten.window_hu} HU window" if inten.window_hu else "")
    )
    cv = signature.cv
    sig = (
        f"{len(signature_weights)} DenseNet-121 deep features selected from the features "
        f"reproducible across delineations (ICC > {icc_threshold:g}), mRMR "
        f"({signature.mrmr.method}, top {signature.mrmr.n_ranked}), then elastic-net Cox with "
        f"{cv.n_folds}-fold CV over k {list(cv.k_grid)} and l1_ratio {list(cv.l1_ratio_grid)}"
    )
    selected: dict[str, list[str]] = {}
    if "available" in multivariate_cox_table:
        rows = multivariate_cox_table[
            multivariate_cox_table["available"].fillna(False).astype(bool)
        ]
    else:
        rows = multivariate_cox_table
    for row in rows.itertuples():
        selected.setdefault(row.model, []).append(f"{row.label} {row.hr_text}")
    random = provenance.get("weights_source") == "random"
    return RunRecords(
        cohorts=pd.DataFrame(cohorts),
        outcome=(
            f"{nomogram.primary_outcome} (time {time_col} in {nomogram.time_unit}, "
            f"event {event_col} = 1)"
        ),
        horizons=list(nomogram.horizons_months),
        candidate_factors=[f.label or f.name for f in factors],
        n_candidate_parameters=int(n_params),
        screening=(
            f"Univariate Cox screening at P < {nomogram.univariate_p_threshold:g}"
            + (
                " (the signature always a candidate)"
                if nomogram.signature is not None and nomogram.signature.always_candidate
                else ""
            )
            + f", then stepwise AIC ({nomogram.stepwise.direction}, k = "
            f"{nomogram.stepwise.k:g}) on the training cohort."
        ),
        selected=selected,
        image_qc=image_qc,
        preprocessing=prep,
        signature=sig,
        weights=(
            f"DenseNet-121 weights: {provenance.get('weights_source')} "
            f"(MD5 {provenance.get('file_md5') or 'n/a'})"
        ),
        random_weights=random,
        discrimination=_available(
            discrimination, ["cohort", "n", "n_events", "c_index", "c_ci_lower", "c_ci_upper"]
        ),
        comparison=comparison[["cohort", "delta", "p_value"]],
        bootstrap=_available(bootstrap, ["c_apparent", "optimism", "c_corrected", "n_bootstrap"]),
        calibration=_available(calibration, ["cohort", "horizon", "rmse"]),
        signature_metrics=signature_metrics[["cohort", "c_index", "ci_lower", "ci_upper"]],
        risk_groups=risk_group_summary[
            ["model", "cohort", "lp_cutoff", "hr_high_vs_low", "hr_ci_lower", "hr_ci_upper"]
        ],
        versions=dict(versions),
        validation_type=validation_type(
            train[dc.center_column].dropna().unique(),
            cohort_rows(clinical_table, dc, validation=True)[dc.center_column].dropna().unique(),
        ),
    )
