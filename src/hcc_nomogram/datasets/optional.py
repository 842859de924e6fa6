"""Optional data. :class:`OptionalDataset`: a read-only dataset that may not exist yet;
``load()`` gives ``None`` instead of failing.

For inputs a pipeline can use when another, optional pipeline has produced them, such as the
report's ingest section reading ``ingest_qc`` (written only by ``kedro run --pipelines=ingest``,
which a user with a ready-made manifest never runs). The upstream check
(:class:`hcc_nomogram.hooks.UpstreamCheckHooks`) therefore treats it as present; the consumer
must handle ``None``. Catalog entry::

    ingest_qc_if_any:
      type: hcc_nomogram.datasets.OptionalDataset
      dataset:
        type: pandas.CSVDataset
        filepath: data/08_reporting/ingest_qc.csv
        versioned: true          # the latest version is loaded

:class:`SkippableDataset`: an output a node may decline to write (it returns :class:`Skipped`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kedro.io import AbstractDataset, DatasetError, Version


class OptionalDataset(AbstractDataset[None, Any]):
    """Wraps any dataset definition; loads ``None`` when the wrapped data does not exist."""

    def __init__(self, *, dataset: dict[str, Any], metadata: dict[str, Any] | None = None):
        self._definition = dict(dataset)
        # versioned: true -> Version(None, None), i.e. the latest version on load
        self._dataset = AbstractDataset.from_config("optional", dict(dataset))
        self.metadata = metadata

    def load(self) -> Any:
        if not self._dataset.exists():
            return None
        return self._dataset.load()

    def save(self, data: None) -> None:
        raise DatasetError(
            "OptionalDataset is read-only: write the wrapped dataset through its own catalog "
            "entry (e.g. `ingest_qc`)."
        )

    def _exists(self) -> bool:
        return True  # absent data is a valid state: load() gives None

    def _describe(self) -> dict[str, Any]:
        return {"dataset": self._definition}


@dataclass(frozen=True)
class Skipped:
    """A node output deliberately not produced; ``reason`` says why (saved by
    :class:`SkippableDataset` as nothing at all)."""

    reason: str


class SkippableDataset(AbstractDataset[Any, Any]):
    """Wraps any dataset definition; saving a :class:`Skipped` writes nothing (and logs why),
    anything else is saved by the wrapped dataset. For outputs a machine may be unable to make,
    such as the report's PNG copies without a browser (docs/reporting.md). ``versioned: true``
    goes on this entry, so the wrapped dataset gets the run's version::

        "report_{figure}_png":
          type: hcc_nomogram.datasets.SkippableDataset
          dataset: {type: pillow.ImageDataset, filepath: data/08_reporting/figures/{figure}.png}
          versioned: true
    """

    def __init__(
        self,
        *,
        dataset: dict[str, Any],
        version: Version | None = None,
        metadata: dict[str, Any] | None = None,
    ):
        self._definition = dict(dataset)
        self._dataset = AbstractDataset.from_config(
            "skippable",
            {**dataset, "versioned": version is not None},
            load_version=version.load if version else None,
            save_version=version.save if version else None,
        )
        self.metadata = metadata

    def load(self) -> Any:
        return self._dataset.load()

    def save(self, data: Any) -> None:
        if isinstance(data, Skipped):
            self._logger.info("Not written: %s (%s).", self._dataset, data.reason)
            return
        self._dataset.save(data)

    def _exists(self) -> bool:
        return self._dataset.exists()

    def _describe(self) -> dict[str, Any]:
        return {"dataset": self._definition}
