"""Project settings (Kedro). See https://docs.kedro.org/en/stable/configure/."""

from kedro.config import OmegaConfigLoader

from hcc_nomogram.hooks import (
    ComputeHooks,
    ParameterCheckHooks,
    ProvenanceHooks,
    ShortFailureHooks,
    UpstreamCheckHooks,
)

# pluggy calls the last registered first: parameters are checked before the upstream inputs.
HOOKS = (
    ComputeHooks(),
    ShortFailureHooks(),
    UpstreamCheckHooks(),
    ProvenanceHooks(),
    ParameterCheckHooks(),
)

CONFIG_LOADER_CLASS = OmegaConfigLoader
CONFIG_LOADER_ARGS = {
    "base_env": "base",
    "default_run_env": "local",
    # conf/local/parameters*.yml may override single nested keys (e.g. only
    # deep_features.weights) instead of replacing a whole top-level block.
    "merge_strategy": {"parameters": "soft"},
}
