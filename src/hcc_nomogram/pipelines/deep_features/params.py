"""``deep_features`` (``conf/base/parameters_deep_features.yml``): the extractor settings, the
phase prefixes and the ICC filter; see docs/deep_features.md. That the ICC comparisons name
delineations of ``data_contract`` is checked once per run
(:func:`~hcc_nomogram.parameters.cross_block_problems`)."""

from __future__ import annotations

from pydantic import Field, field_validator

from hcc_nomogram.features.densenet import ExtractorSettings
from hcc_nomogram.parameters import StrictModel


class IccSettings(StrictModel):
    """``deep_features.icc``: keep a feature when every computed ICC(2,1) > ``threshold``."""

    threshold: float = Field(ge=-1.0, lt=1.0)
    alpha: float = Field(0.05, gt=0.0, lt=1.0)  # 1 - confidence level of the intervals
    comparisons: dict[str, tuple[str, str]]  # name -> [delineation, delineation]

    @field_validator("comparisons")
    @classmethod
    def _two_different(cls, comparisons: dict[str, tuple[str, str]]) -> dict:
        same = [name for name, (a, b) in comparisons.items() if a == b]
        if same:
            raise ValueError(f"{same} must name two different delineations")
        return comparisons


class DeepFeaturesParams(ExtractorSettings):
    """The whole ``deep_features`` block: :class:`ExtractorSettings` plus the phases and the
    ICC filter."""

    phases: dict[str, str]  # namespace -> phase prefix of the crop arrays and columns
    icc: IccSettings
