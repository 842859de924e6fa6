"""Provenance section: DenseNet weights (with a loud banner for random weights), parameters,
package versions and, when known, dataset versions."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pandas as pd

from hcc_nomogram.report.errors import require_input
from hcc_nomogram.report.html import Section


def weights_banner(provenance: Mapping[str, Any]) -> str | None:
    """The banner text when the deep features did not use verified ImageNet weights."""
    if provenance.get("weights_source") == "random":
        why = (
            " (fallback: "
            + str(provenance.get("fallback_reason") or "ImageNet weights unavailable")
            + ")"
            if provenance.get("fallback")
            else ""
        )
        return (
            f"RANDOM DenseNet-121 weights were used{why}. The deep features, the signature, "
            "the CAMs and the integrated nomogram of this report are NOT the paper's method "
            "and must not be interpreted clinically."
        )
    if not provenance.get("is_imagenet", False):
        return (
            "DenseNet-121 weights are a local file that is not the official ImageNet file "
            f"(MD5 {provenance.get('file_md5')}); results are not comparable with the paper."
        )
    return None


def provenance_section(
    densenet_provenance: Mapping[str, Any],
    parameters: Mapping[str, Any],
    packages: Mapping[str, str],
    dataset_versions: Mapping[str, str] | None = None,
) -> tuple[Section, list[str]]:
    """The section and the list of banners to show at the top of the report."""
    require_input(densenet_provenance, "densenet_weights_provenance", "Provenance")
    sec = Section("provenance", "Provenance")
    banner = weights_banner(densenet_provenance)
    if banner:
        sec.html(f'<p class="section-error"><b>{banner}</b></p>')
    sec.table(
        pd.DataFrame(sorted(densenet_provenance.items()), columns=["key", "value"]).astype(str),
        caption="DenseNet-121 weights (densenet_weights_provenance)",
    )
    sec.table(
        pd.DataFrame(sorted(packages.items()), columns=["package", "version"]),
        caption="Package versions",
    )
    if dataset_versions:
        sec.table(
            pd.DataFrame(sorted(dataset_versions.items()), columns=["dataset", "version"]),
            caption="Dataset versions",
        )
    else:
        sec.text(
            "Dataset versions: see the timestamped folders under data/ of this run "
            "(every figure and table dataset is versioned)."
        )
    sec.html(
        "<details><summary>Parameters</summary><pre>"
        + json.dumps(parameters, indent=2, default=str).replace("<", "&lt;")
        + "</pre></details>"
    )
    return sec, [banner] if banner else []
