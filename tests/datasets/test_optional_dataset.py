"""OptionalDataset: None when the wrapped data is absent, the latest version otherwise."""

import pandas as pd
import pytest
from kedro.io import DatasetError
from kedro.io.core import Version
from kedro_datasets.pandas import CSVDataset

from hcc_nomogram.datasets import OptionalDataset


def _optional(path):
    return OptionalDataset(
        dataset={"type": "pandas.CSVDataset", "filepath": str(path), "versioned": True}
    )


def test_absent_data_loads_none_and_counts_as_present(tmp_path):
    ds = _optional(tmp_path / "qc.csv")
    assert ds.exists()  # the upstream check must not ask for the optional pipeline
    assert ds.load() is None


def test_loads_the_latest_version(tmp_path):
    path = tmp_path / "qc.csv"
    for version, value in (("2026-01-01T00.00.00.000Z", 1), ("2026-02-01T00.00.00.000Z", 2)):
        CSVDataset(
            filepath=str(path), version=Version(None, version), save_args={"index": False}
        ).save(pd.DataFrame({"x": [value]}))
    assert _optional(path).load()["x"].tolist() == [2]


def test_is_read_only(tmp_path):
    with pytest.raises(DatasetError, match="read-only"):
        _optional(tmp_path / "qc.csv").save(pd.DataFrame({"x": [1]}))
