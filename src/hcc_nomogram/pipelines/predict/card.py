"""The model card (Markdown) of the frozen signature + integrated nomogram."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from hcc_nomogram.report.provenance import weights_banner


def _md_table(frame: pd.DataFrame, floatfmt: str = "{:.3f}") -> str:
    if frame is None or frame.empty:
        return "_not available_\n"
    cols = [str(c) for c in frame.columns]

    def cell(v):
        if isinstance(v, float | np.floating):
            return "" if not np.isfinite(v) else floatfmt.format(v)
        return str(v).replace("|", "/")

    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += [
        "| " + " | ".join(cell(v) for v in row) + " |" for row in frame.itertuples(index=False)
    ]
    return "\n".join(lines) + "\n"


def _pick(frame: pd.DataFrame | None, columns: list[str]) -> pd.DataFrame:
    if frame is None or frame.empty:
        return pd.DataFrame()
    return frame[[c for c in columns if c in frame.columns]]


def _without(frame: pd.DataFrame | None, columns) -> pd.DataFrame | None:
    return None if frame is None else frame.drop(columns=[c for c in columns if c in frame])


def cohort_summary(
    analysis_table: pd.DataFrame, cohort_col: str, center_col: str, time_col: str, event_col: str
) -> pd.DataFrame:
    rows = []
    for cohort, sub in analysis_table.groupby(cohort_col, sort=False):
        rows.append(
            {
                "cohort": cohort,
                "n": len(sub),
                "deaths": int(sub[event_col].sum()),
                "centers": ", ".join(sorted(map(str, sub[center_col].unique())))
                if center_col in sub
                else "",
                "median follow-up (months)": float(np.median(sub[time_col])),
            }
        )
    return pd.DataFrame(rows)


@dataclass(frozen=True, eq=False)
class ModelCard:
    """The card's contents; :meth:`to_markdown` writes it (``out_of_range_policy``: how
    far-out inputs are handled; ``run_checks``: what this predict run verified against
    training)."""

    signature_config: Mapping
    n_signature_features: int
    nomogram_terms: list[str]
    lp_cutoff: float
    provenance: Mapping
    training_settings: Mapping
    cohorts: pd.DataFrame
    signature_metrics: pd.DataFrame
    discrimination: pd.DataFrame
    bootstrap: pd.DataFrame
    c_index_comparison: pd.DataFrame
    calibration_summary: pd.DataFrame
    ranges: pd.DataFrame
    out_of_range_policy: str = ""
    run_checks: list[str] | None = None

    def to_markdown(self) -> str:
        """The card as Markdown text, section by section."""
        banner = weights_banner(self.provenance)
        out = ["# Model card: HCC overall-survival nomogram with a deep learning signature", ""]
        if banner:
            out += [f"> **WARNING: {banner}**", ""]
        out += [
            *self._intended_use(),
            *self._models(),
            *self._cohorts_and_provenance(),
            *self._performance(),
            *self._calibration_and_ranges(),
            *self._limitations(),
        ]
        return "\n".join(out) + "\n"

    def _intended_use(self) -> list[str]:
        return [
            "## Intended use",
            "- Research reproduction of Zhang et al., Front. Oncol. 2020;10:593292: prediction of "
            "overall survival (OS) of patients with hepatocellular carcinoma (HCC) treated as in "
            "the "
            "training cohort, from two-phase contrast CT (arterial + portal venous) and clinical "
            "factors.",
            "- Outputs per patient: signature score, nomogram points, predicted OS at 12/24/36 "
            "months, "
            "risk group at the training median linear predictor.",
            "- **Not** a medical device; not for individual treatment decisions. Apply only to "
            "patients "
            "resembling the training cohort (same indication, CT protocol and delineation "
            "practice); "
            "the `predict` pipeline warns when a value lies outside the training range.",
            "",
        ]

    def _models(self) -> list[str]:
        config = self.signature_config
        return [
            "## Models",
            f"- Deep learning signature: elastic-net Cox on {self.n_signature_features} "
            "reproducible "
            f"DenseNet-121 features (mRMR {config.get('mrmr_method', '?')}, "
            f"k={config.get('k')}, l1_ratio={config.get('l1_ratio')}, "
            f"alpha={config.get('alpha', float('nan')):.4g}; "
            f"CV C {config.get('cv_mean_c', float('nan')):.3f}).",
            "- Integrated nomogram (Cox, stepwise AIC): "
            f"{', '.join(self.nomogram_terms) or 'n/a'}; "
            f"risk-group cut-off (training median LP) {self.lp_cutoff:.4f}.",
            "- Risk direction: higher score / points / linear predictor = higher hazard = worse.",
            "",
        ]

    def _cohorts_and_provenance(self) -> list[str]:
        prov = self.provenance
        return [
            "## Training and validation cohorts",
            _md_table(self.cohorts, "{:.1f}"),
            "## Weights provenance",
            f"- weights_source: **{prov.get('weights_source')}** (requested "
            f"{prov.get('requested')!r}; ImageNet verified: {prov.get('is_imagenet')}; "
            f"fallback: {prov.get('fallback')})",
            f"- file: {prov.get('file')} (MD5 {prov.get('file_md5')}; official "
            f"{prov.get('official_md5')}); seed {prov.get('seed')}; input mode "
            f"{prov.get('input_mode')}; Keras {prov.get('keras_version')}, TensorFlow "
            f"{prov.get('tensorflow_version')}",
            *[f"- Checked in this run: {c}" for c in self.run_checks or []],
            "- Feature-extraction settings recorded with training (the `predict` pipeline refuses "
            "to run when they differ from the configured ones):",
            "",
            "```",
            *[
                f"{k}: {json.dumps(v, default=str)}"
                for k, v in self.training_settings.items()
                if k != "densenet_weights_provenance"
            ],
            "```",
            "",
        ]

    def _performance(self) -> list[str]:
        return [
            "## Performance (95% CI)",
            "Deep learning signature, Harrell's C:",
            "",
            _md_table(
                _pick(
                    self.signature_metrics,
                    ["cohort", "n_patients", "n_events", "c_index", "ci_lower", "ci_upper"],
                )
            ),
            "Integrated nomogram, Harrell's C and time-dependent AUC:",
            "",
            _md_table(
                _pick(
                    self.discrimination,
                    [
                        "cohort",
                        "n",
                        "n_events",
                        "c_index",
                        "c_ci_lower",
                        "c_ci_upper",
                        "auc_12",
                        "auc_24",
                        "auc_36",
                        "ibs",
                    ],
                )
            ),
            "Optimism-corrected (bootstrap) C in training:",
            "",
            _md_table(_without(self.bootstrap, ("note", "available"))),
            "Integrated vs clinical nomogram:",
            "",
            _md_table(
                _pick(
                    self.c_index_comparison,
                    [
                        "cohort",
                        "n",
                        "c_clinical",
                        "c_clinical_ci",
                        "c_integrated",
                        "c_integrated_ci",
                        "delta",
                        "p_value",
                    ],
                )
            ),
        ]

    def _calibration_and_ranges(self) -> list[str]:
        return [
            "## Calibration",
            "Root-mean-square difference between predicted and Kaplan-Meier observed survival "
            "(quantile groups):",
            "",
            _md_table(
                _pick(self.calibration_summary, ["cohort", "horizon", "rmse", "n_groups_estimable"])
            ),
            "## Input ranges seen in training",
            _md_table(self.ranges),
            *(
                [f"**Out-of-range guard:** {self.out_of_range_policy}", ""]
                if self.out_of_range_policy
                else []
            ),
        ]

    def _limitations(self) -> list[str]:
        out = [
            "## Known limitations",
            "- Retrospective data; the validation cohort is external but also retrospective.",
            "- Single-slice 2D analysis: only the largest-ROI axial slice of each phase is used.",
            "- Manual tumour delineation (one reader's primary read for new patients); features "
            "were "
            "filtered for inter/intra-reader reproducibility (ICC), but delineation style still "
            "matters.",
            "- Frozen ImageNet DenseNet-121 (natural images), no fine-tuning; features depend on "
            "the "
            "exact preprocessing (registration, crop, z-score) and weights.",
            "- Small cohorts give wide confidence intervals; calibration estimated on few groups.",
        ]
        if self.provenance.get("weights_source") == "random":
            out.append(
                "- **RANDOM DenseNet-121 weights were used**: the signature and integrated "
                "nomogram are a control/demo only and must not be interpreted clinically."
            )
        return out
