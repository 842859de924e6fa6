"""OptionalDataset: None when the wrapped data is absent, the latest version otherwise."""

import pandas as pd
import pytest
from kedro.io import DatasetError
from kedro.io.core import Version
from kedro_datasets.pandas import CSVDataset

from hcc_nomogram.datasets import OptionalDataset, SkippableDataset, Skipped


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


def _skippable(path, version=None):
    return SkippableDataset(
        dataset={"type": "pillow.ImageDataset", "filepath": str(path)}, version=version
    )


def test_skipped_writes_nothing_and_an_image_is_written_with_the_run_version(tmp_path):
    from PIL import Image

    path = tmp_path / "km.png"
    _skippable(path, Version(None, None)).save(Skipped("no browser"))
    assert not tmp_path.exists() or not list(tmp_path.rglob("*.png"))
    run = "2026-03-01T00.00.00.000Z"
    ds = _skippable(path, Version(None, run))
    ds.save(Image.new("RGB", (4, 3), "red"))
    assert (path / run / "km.png").is_file() and ds.load().size == (4, 3)
