"""Fixtures of the report tests: synthetic upstream outputs and one reporting run on them."""

import sys
from pathlib import Path

import pytest
import yaml
from kedro.io import DataCatalog, MemoryDataset
from kedro.runner import SequentialRunner

sys.path.insert(0, str(Path(__file__).parent))

import synthetic as S  # noqa: E402

from hcc_nomogram.pipelines.reporting.pipeline import create_pipeline  # noqa: E402

CATALOG_YML = Path(__file__).parents[2] / "conf" / "base" / "catalog_reporting.yml"


def synthetic_catalog(data_dir: Path) -> DataCatalog:
    """Synthetic upstream outputs in memory + the real catalog_reporting.yml under ``data_dir``."""
    data = {
        "clinical_table": S.clinical(),
        "preprocessing_qc": S.preprocessing_qc(),
        "preprocessed_crops": S.crops_partitions(),
        "arterial.icc_table": S.icc_table_deep("arterial", 1),
        "portal.icc_table": S.icc_table_deep("portal", 2),
        "densenet_weights_provenance": S.provenance("random"),
        "params:reporting": S.REPORTING,
        "params:data_contract": S.CONTRACT,
        "params:deep_features": {"icc": {"threshold": 0.75}},
        "params:deep_features.icc": {"threshold": 0.75},
    }
    conf = yaml.safe_load(CATALOG_YML.read_text().replace("filepath: data/",
                                                          f"filepath: {data_dir}/"))
    catalog = DataCatalog.from_config(conf)
    for name, value in data.items():
        catalog[name] = MemoryDataset(value, copy_mode="assign")
    return catalog


@pytest.fixture(scope="session")
def report_run(tmp_path_factory):
    catalog = synthetic_catalog(tmp_path_factory.mktemp("report"))
    SequentialRunner().run(create_pipeline(), catalog)
    return catalog




@pytest.fixture(scope="session")
def report_html_path(report_run, tmp_path_factory):
    path = tmp_path_factory.mktemp("html") / "report.html"
    path.write_text(report_run.load("hcc_nomogram_report"), encoding="utf-8")
    return path
