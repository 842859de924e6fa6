"""Cross-cutting hooks: log the provenance of every run (package versions, run id)."""

from __future__ import annotations

import logging
import platform
from importlib import metadata

from kedro.framework.hooks import hook_impl

logger = logging.getLogger(__name__)

PROVENANCE_PACKAGES = (
    "kedro",
    "kedro-datasets",
    "tensorflow-cpu",
    "tensorflow",
    "keras",
    "SimpleITK",
    "scikit-survival",
    "scikit-learn",
    "statsmodels",
    "pymrmr",
    "pandas",
    "numpy",
    "plotly",
)


def package_versions() -> dict[str, str]:
    """Installed versions of the packages that decide the numbers this project reports."""
    versions = {"python": platform.python_version()}
    for name in PROVENANCE_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


class ProvenanceHooks:
    @hook_impl
    def before_pipeline_run(self, run_params, pipeline, catalog):  # noqa: ARG002
        logger.info(
            "hcc-nomogram run %s, pipeline=%s, packages: %s",
            run_params.get("run_id") or run_params.get("session_id"),
            run_params.get("pipeline_names") or run_params.get("pipeline_name") or "__default__",
            ", ".join(f"{k}={v}" for k, v in package_versions().items()),
        )
