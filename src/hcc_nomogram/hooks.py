"""Cross-cutting hooks: check parameters and upstream inputs before a run, log its provenance
(package versions, run id), print the project's own errors without the framework traceback."""

from __future__ import annotations

import logging
import platform
from importlib import metadata
from pathlib import Path

from kedro.framework.hooks import hook_impl

from hcc_nomogram.errors import HccNomogramError

logger = logging.getLogger(__name__)


class MissingUpstreamDataError(HccNomogramError, RuntimeError):
    """An input of the requested pipeline has not been produced by its upstream pipeline."""


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
    "pydicom",
    "highdicom",
    "rt-utils",
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


def _all_project_pipelines() -> dict:
    """Every pipeline of this package. (Not ``kedro.framework.project.pipelines``: during a
    ``kedro run --pipelines=X`` Kedro only loads the pipelines that were asked for.)"""
    import importlib
    import pkgutil

    import hcc_nomogram.pipelines as package
    from hcc_nomogram.pipeline_registry import compose_pipelines

    found = {}
    for info in pkgutil.iter_modules(package.__path__):
        if info.ispkg:
            module = importlib.import_module(f"{package.__name__}.{info.name}")
            found[info.name] = module.create_pipeline()
    return compose_pipelines(found)


def producing_pipelines(dataset: str, registry: dict | None = None) -> list[str]:
    """Names of the registered pipelines (``__default__`` excluded) that write ``dataset``."""
    if registry is None:
        registry = _all_project_pipelines()
    names = []
    for name in sorted(registry):
        if name == "__default__":
            continue
        try:
            if dataset in registry[name].all_outputs():
                names.append(name)
        except Exception:  # a broken pipeline must not hide the real message
            continue
    return names


def missing_upstream_inputs(pipeline, catalog) -> list[str]:
    """Free (not produced in this run) dataset inputs of ``pipeline`` that do not exist."""
    missing = []
    for name in sorted(pipeline.inputs()):
        if name.startswith("params:") or name == "parameters":
            continue
        try:
            exists = catalog.exists(name)
        except Exception:
            exists = True  # the dataset cannot tell: let the load report its own error
        if not exists:
            missing.append(name)
    return missing


class UpstreamCheckHooks:
    """Before a run, name the pipeline to run first for every input that does not exist yet.

    Without this, a missing upstream dataset surfaces mid-run as a bare file-not-found from
    inside Kedro; with it, the run stops before any node (so nothing is written) and says,
    e.g., "run `kedro run --pipelines=signature` first".
    """

    @hook_impl
    def before_pipeline_run(self, run_params, pipeline, catalog):  # noqa: ARG002
        missing = missing_upstream_inputs(pipeline, catalog)
        if not missing:
            return
        lines = []
        for name in missing:
            producers = producing_pipelines(name)
            if producers:
                how = " or ".join(f"`kedro run --pipelines={p}`" for p in producers)
                lines.append(f"- {name!r} does not exist yet: run {how} first.")
            else:
                lines.append(
                    f"- {name!r} does not exist and no pipeline produces it: point the catalog "
                    "entry at your file (see docs/data_contract.md)."
                )
        raise MissingUpstreamDataError(
            "This run needs datasets that have not been produced yet; nothing was run or "
            "written.\n" + "\n".join(lines)
        )


class ParameterCheckHooks:
    """When the run starts, check every parameter block once
    (:func:`hcc_nomogram.parameters.check_parameters`): an unknown or misspelled key stops the run
    before any node, naming the key, the allowed keys and the YAML file. It reads the merged YAML
    (``conf/base`` + ``conf/local`` + ``--params``) before Kedro builds the typed ``params:``
    inputs, so the project's message comes first; ``trylast``: after the short-failure hook."""

    @hook_impl(trylast=True)
    def after_context_created(self, context):
        from hcc_nomogram.parameters import check_parameters

        check_parameters(context.config_loader["parameters"])


class ShortFailureHooks:
    """The project's own errors print one block (what, where, fix) instead of the framework's
    traceback, which goes to ``logs/last_error.log`` (:mod:`hcc_nomogram.failure`)."""

    @hook_impl
    def after_context_created(self, context):
        from hcc_nomogram.failure import install_short_failure_hook

        install_short_failure_hook(Path(context.project_path) / "logs")


class ProvenanceHooks:
    @hook_impl
    def before_pipeline_run(self, run_params, pipeline, catalog):  # noqa: ARG002
        logger.info(
            "hcc-nomogram run %s, pipeline=%s, packages: %s",
            run_params.get("run_id") or run_params.get("session_id"),
            run_params.get("pipeline_names") or run_params.get("pipeline_name") or "__default__",
            ", ".join(f"{k}={v}" for k, v in package_versions().items()),
        )


class ComputeHooks:
    """One Dask cluster per run: the first node that needs it starts it
    (:func:`hcc_nomogram.compute.run_engine`), later nodes reuse it, and it is closed here
    when the run ends or fails (and at interpreter exit, should neither hook run)."""

    @hook_impl
    def after_pipeline_run(self, run_params, run_result, pipeline, catalog):  # noqa: ARG002
        from hcc_nomogram.compute import close_run_engine

        close_run_engine()

    @hook_impl
    def on_pipeline_error(self, error, run_params, pipeline, catalog):  # noqa: ARG002
        from hcc_nomogram.compute import close_run_engine

        close_run_engine()
