"""Phase selection and mask matching per patient, from the series index alone (no pixels).

:func:`plan_patient` applies the rules of ``parameters_ingest.yml`` to one patient's series:

1. candidate CT series: the configured modality, not SEG/RTSTRUCT, no excluded ImageType value
   (LOCALIZER, DERIVED, SECONDARY), at least ``min_slices`` slices;
2. one study: a patient with CT series in several studies is a problem (``study: only``) or the
   earliest/latest study is used and said so;
3. per phase: the override (patient -> series UID) if given, else the candidates whose
   SeriesDescription matches the phase's case-insensitive regex. None or several candidates is
   a *problem* listing the candidates' descriptions -- never a silent pick;
4. the chosen series must be evenly spaced, single-orientation, single-frame; with
   ``phase_order`` the acquisition times must follow that order;
5. per delineation: the SEG/RTSTRUCT objects (or NIfTI files) matched by its rules, the phase
   each belongs to (the chosen series it references), and the segment / ROI chosen. A
   delineation found on one phase only is noted (preprocessing carries it to the other phase
   through the registration); a missing primary delineation is a problem, a missing repeated
   one a note (its ICC comparison is then not computed).

The result is a :class:`PatientPlan`: what to read for each phase and mask, notes, and the
problems that exclude the patient (each with its fix), for the ingest QC table.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from hcc_nomogram.ingest.index import IMAGE_FILE, RTSTRUCT_SOP_CLASS, SEG_SOP_CLASS
from hcc_nomogram.ingest.params import DelineationRule, IngestParams


@dataclass(frozen=True)
class MaskSource:
    """Where one (delineation, phase) mask comes from."""

    kind: str  # seg | rtstruct | nifti
    file: str  # path inside the export
    segment_number: int | None = None  # seg
    roi_name: str | None = None  # rtstruct
    label: str = ""  # the segment label / ROI name / file name, for the QC table
    threshold: float = 0.5


@dataclass
class PatientPlan:
    dicom_patient_id: str
    series: dict[str, dict[str, Any]] = field(default_factory=dict)  # phase -> index row
    masks: dict[tuple[str, str], MaskSource] = field(default_factory=dict)  # (delin, phase)
    problems: list[str] = field(default_factory=list)
    fixes: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def problem(self, text: str, fix: str) -> None:
        self.problems.append(text)
        if fix not in self.fixes:
            self.fixes.append(fix)

    @property
    def ok(self) -> bool:
        return not self.problems


def _describe(row: dict[str, Any]) -> str:
    return (
        f"#{row['series_number']} {row['series_description']!r} "
        f"({row['n_slices']} slices, {row['acquisition_time'] or 'no time'})"
    )


def _search(pattern: str | None, text: str) -> bool:
    return pattern is None or re.search(pattern, text or "", flags=re.IGNORECASE) is not None


def _candidates(series: pd.DataFrame, params: IngestParams, plan: PatientPlan) -> pd.DataFrame:
    rules = params.series
    image = series[~series["sop_class"].isin([SEG_SOP_CLASS, RTSTRUCT_SOP_CLASS])]
    image = image[(image["modality"] == rules.modality) & (image["error"] == "")]
    excluded = image["image_type"].map(
        lambda t: any(v.upper() in str(t).split("\\") for v in rules.exclude_image_types)
    )
    small = image["n_slices"] < rules.min_slices
    keep = image[~excluded & ~small]
    studies = keep.drop_duplicates("study_uid")
    if len(studies) > 1:
        # no dates in the QC table (quasi-identifiers): the study order and series counts
        order = (studies["study_date"].astype(str) + studies["study_time"].astype(str)).rank(
            method="first"
        )
        counts = keep["study_uid"].value_counts()
        listed = ", ".join(
            f"study {int(rank)}: {counts[uid]} CT series"
            for uid, rank in sorted(zip(studies["study_uid"], order), key=lambda x: x[1])
        )
        if rules.study == "only":
            plan.problem(
                f"CT series in {len(studies)} studies ({listed}, in date order; dates in "
                "ingest_index); which study is meant is ambiguous.",
                "set ingest.series.study to earliest or latest, or give the series in "
                "ingest.overrides.",
            )
        else:
            pick = order.idxmin() if rules.study == "earliest" else order.idxmax()
            plan.notes.append(f"{len(studies)} studies ({listed}); the {rules.study} one is used.")
            keep = keep[keep["study_uid"] == studies.loc[pick, "study_uid"]]
    return keep


def _choose_phases(
    patient_series: pd.DataFrame, keep: pd.DataFrame, params: IngestParams, plan: PatientPlan
) -> None:
    overrides = params.overrides.get(plan.dicom_patient_id, {})
    for phase, rule in params.phases.items():
        if phase in overrides:
            uid = overrides[phase]
            match = patient_series[patient_series["series_uid"] == uid]
            if match.empty:
                plan.problem(
                    f"override for {phase}: series {uid} is not in the export for this patient.",
                    "correct the series UID in ingest.overrides (see the ingest_index table).",
                )
                continue
            plan.series[phase] = match.iloc[0].to_dict()
            plan.notes.append(f"{phase}: series chosen by override.")
            continue
        hits = keep[
            keep["series_description"].map(
                lambda d, r=rule: (
                    _search(r.description, d) and not (r.exclude and _search(r.exclude, d))
                )
            )
        ]
        if len(hits) == 1:
            plan.series[phase] = hits.iloc[0].to_dict()
        elif hits.empty:
            others = "; ".join(_describe(r) for r in keep.to_dict("records")) or "none"
            plan.problem(
                f"no series matches the {phase} rule {rule.description!r}; "
                f"CT candidates: {others}.",
                f"adapt ingest.phases.{phase}.description, or name the series in ingest.overrides.",
            )
        else:
            listed = "; ".join(_describe(r) for r in hits.to_dict("records"))
            plan.problem(
                f"{len(hits)} series match the {phase} rule: {listed}.",
                f"tighten ingest.phases.{phase}.description (or exclude), or name the series "
                "in ingest.overrides.",
            )
    uids = [s["series_uid"] for s in plan.series.values()]
    if len(set(uids)) < len(uids):
        plan.problem(
            "one series was chosen for two phases.",
            "make the phase rules exclusive, or use ingest.overrides.",
        )


def _check_chosen(params: IngestParams, plan: PatientPlan) -> None:
    for phase, row in plan.series.items():
        if row["multiframe"]:
            plan.problem(
                f"{phase}: series {_describe(row)} is a multi-frame (enhanced) CT, not supported.",
                "convert it to a classic single-frame series (e.g. dcmtk emf2sf) before ingest.",
            )
        if row["orientation"] == "mixed":
            plan.problem(
                f"{phase}: series {_describe(row)} mixes slice orientations.",
                "export the axial reconstruction only, or name another series in ingest.overrides.",
            )
        if row["geometry_problem"]:
            plan.problem(
                f"{phase}: series {_describe(row)}: {row['geometry_problem']}.",
                "re-export the complete series (slices were not stacked).",
            )
    order = [p for p in params.phase_order if p in plan.series]
    times = [plan.series[p]["acquisition_time"] for p in order]
    if len(order) > 1 and all(times) and times != sorted(times):
        listed = ", ".join(f"{p} {t}" for p, t in zip(order, times))
        plan.problem(
            f"acquisition times contradict the expected phase order {order}: {listed}.",
            "check the phase rules, or name the series in ingest.overrides.",
        )


def _match_objects(patient_series: pd.DataFrame, rule: DelineationRule) -> pd.DataFrame:
    sop = {"seg": SEG_SOP_CLASS, "rtstruct": RTSTRUCT_SOP_CLASS}[rule.source]
    objects = patient_series[patient_series["sop_class"] == sop]
    ok = (
        objects.apply(
            lambda r: (
                _search(rule.description, r["series_description"])
                and _search(rule.creator, r["creator"])
                and _search(rule.folder, r["folder"])
            ),
            axis=1,
        )
        if len(objects)
        else pd.Series(dtype=bool)
    )
    return objects[ok] if len(objects) else objects


def _select_segment(
    obj: dict[str, Any], rule: DelineationRule, plan: PatientPlan, delineation: str
) -> dict | None:
    segments = json.loads(obj["segments"] or "[]")
    what = "segment" if rule.source == "seg" else "ROI"
    if rule.segment_number is not None:
        hits = [s for s in segments if s["number"] == rule.segment_number]
    else:
        hits = [
            s
            for s in segments
            if _search(rule.segment, s["label"])
            or (s.get("description") and _search(rule.segment, s["description"]))
        ]
    names = ", ".join(f"{s['number']}: {s['label']!r}" for s in segments) or "none"
    wanted = rule.segment_number if rule.segment_number is not None else repr(rule.segment)
    if len(hits) != 1:
        plan.problem(
            f"{delineation}: {len(hits)} {what}(s) match {wanted} in {rule.source.upper()} "
            f"{obj['series_description']!r}; the {what}s are {names}.",
            f"set ingest.delineations.{delineation} segment (regex) or segment_number to one "
            "of them.",
        )
        return None
    hit = hits[0]
    if hit.get("open_contours"):
        plan.problem(
            f"{delineation}: ROI {hit['label']!r} has {hit['open_contours']} open contour(s) "
            "(ContourGeometricType not CLOSED_PLANAR): it does not enclose an area.",
            "close the contours in the contouring tool and re-export the RTSTRUCT.",
        )
        return None
    if hit.get("degenerate_contours"):
        plan.notes.append(
            f"{delineation}: ROI {hit['label']!r} has {hit['degenerate_contours']} contour(s) of "
            "fewer than 3 points (rasterised as the voxels they touch)."
        )
    if hit.get("contours") == 0:
        plan.problem(
            f"{delineation}: ROI {hit['label']!r} has no contour.",
            "delineate the tumour, or choose another ROI in ingest.delineations.",
        )
        return None
    return hit


def _masks_from_objects(
    patient_series: pd.DataFrame, export_series: set[str], params: IngestParams, plan: PatientPlan
) -> None:
    phase_of = {row["series_uid"]: phase for phase, row in plan.series.items()}
    for delineation, rules in params.delineations.items():
        for rule in rules:
            if rule.source == "nifti":
                _masks_from_files(patient_series, rule, delineation, params, plan)
                continue
            for obj in _match_objects(patient_series, rule).to_dict("records"):
                refs = [r for r in str(obj["referenced_series"]).split(";") if r]
                chosen = [phase_of[r] for r in refs if r in phase_of]
                if not chosen:
                    missing = [r for r in refs if r not in export_series]
                    if missing or not refs:
                        plan.problem(
                            f"{delineation}: {rule.source.upper()} "
                            f"{obj['series_description']!r} references a "
                            "series that is not in the export.",
                            "add the referenced CT series to the export, or remove the object.",
                        )
                    else:
                        plan.notes.append(
                            f"{delineation}: {rule.source.upper()} {obj['series_description']!r} "
                            "references a series that is not a chosen phase; ignored."
                        )
                    continue
                hit = _select_segment(obj, rule, plan, delineation)
                if hit is None:
                    continue
                phase = chosen[0]
                key = (delineation, phase)
                if key in plan.masks:
                    plan.problem(
                        f"{delineation}: two objects give the {phase} mask.",
                        f"narrow ingest.delineations.{delineation} "
                        "(description, creator or folder).",
                    )
                    continue
                plan.masks[key] = MaskSource(
                    kind=rule.source,
                    file=json.loads(obj["files"])[0],
                    segment_number=hit["number"] if rule.source == "seg" else None,
                    roi_name=hit["label"] if rule.source == "rtstruct" else None,
                    label=f"{rule.source.upper()} {obj['series_description']!r} {hit['label']!r}",
                    threshold=rule.fractional_threshold,
                )


def _masks_from_files(
    files: pd.DataFrame,
    rule: DelineationRule,
    delineation: str,
    params: IngestParams,
    plan: PatientPlan,
) -> None:
    pattern = re.compile(rule.pattern)
    for row in files[files["modality"] == IMAGE_FILE].to_dict("records"):
        path = json.loads(row["files"])[0]
        m = pattern.search(path)
        if not m or m.group("patient") != plan.dicom_patient_id or not _search(rule.folder, path):
            continue
        phase = m.group("phase")
        if phase not in params.phases:
            continue
        key = (delineation, phase)
        if key in plan.masks:
            plan.problem(
                f"{delineation}: two files give the {phase} mask.",
                f"narrow ingest.delineations.{delineation} pattern.",
            )
            continue
        plan.masks[key] = MaskSource(kind="nifti", file=path, label=path.rsplit("/", 1)[-1])


def plan_patient(  # noqa: PLR0913  one patient's tables and the settings
    dicom_patient_id: str,
    patient_series: pd.DataFrame,
    image_files: pd.DataFrame,
    export_series: set[str],
    params: IngestParams,
    *,
    primary_delineation: str = "r1a",
) -> PatientPlan:
    """Everything :mod:`hcc_nomogram.ingest` reads for one patient, or why it cannot."""
    plan = PatientPlan(dicom_patient_id)
    keep = _candidates(patient_series, params, plan)
    _choose_phases(patient_series, keep, params, plan)
    _check_chosen(params, plan)
    _masks_from_objects(pd.concat([patient_series, image_files]), export_series, params, plan)
    for delineation in params.delineations:
        found = [p for p in params.phases if (delineation, p) in plan.masks]
        missing = [p for p in params.phases if p not in found]
        if not found and delineation == primary_delineation:
            plan.problem(
                f"{delineation} (the primary delineation): no mask found on any phase.",
                f"check ingest.delineations.{delineation} "
                "(see the segment/ROI names in ingest_index).",
            )
        elif not found:
            plan.notes.append(
                f"{delineation}: no mask found; the ICC comparisons using it are not computed "
                "for this patient."
            )
        elif missing:
            plan.notes.append(
                f"{delineation}: delineated on {found} only; the {missing} crop uses the mask "
                "carried through the registration."
            )
    return plan
