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


#: Upstream datasets derived from CT images: a clinical-only user has none of them.
IMAGE_DERIVED = (
    "preprocessing_qc",
    "preprocessed_crops",
    "arterial.icc_table",
    "portal.icc_table",
    "densenet_weights_provenance",
    "signature_weights",
    "signature_cv_results",
    "signature_metrics",
)


def synthetic_catalog(
    data_dir: Path, *, integrated: bool = True, images: bool = True
) -> DataCatalog:
    """Synthetic upstream outputs in memory + the real catalog_reporting.yml under ``data_dir``."""
    data = {
        "clinical_table": S.clinical(),
        "preprocessing_qc": S.preprocessing_qc(),
        "preprocessed_crops": S.crops_partitions(),
        "arterial.icc_table": S.icc_table_deep("arterial", 1),
        "portal.icc_table": S.icc_table_deep("portal", 2),
        "densenet_weights_provenance": S.provenance("random"),
        "signature_weights": S.signature_weights(),
        "signature_cv_results": S.signature_cv_results(),
        "signature_metrics": S.signature_metrics(),
        **S.nomogram_outputs(integrated),
        **S.nomogram_models(integrated),
        "analysis_table": S.analysis_table(),
        "params:nomogram": S.NOMOGRAM,
        "params:signature": {},
        "params:preprocessing": {},
        "params:predict": {},
        "params:reporting": S.REPORTING,
        "params:data_contract": S.CONTRACT,
        "params:deep_features": {"icc": {"threshold": 0.75}},
        "params:deep_features.icc": {"threshold": 0.75},
    }
    conf = yaml.safe_load(
        CATALOG_YML.read_text(encoding="utf-8").replace("filepath: data/", f"filepath: {data_dir}/")
    )
    catalog = DataCatalog.from_config(conf)
    for name, value in data.items():
        if images or name not in IMAGE_DERIVED:
            catalog[name] = MemoryDataset(value, copy_mode="assign")
    return catalog


class FakeExtractor:
    """Stands in for the DenseNet in the synthetic runs: 7x7x1024 maps with a gradient."""

    def feature_maps(self, crops):
        import numpy as np

        return np.ones((len(crops), 7, 7, 1024)) * np.arange(7)[None, :, None, None]


def synthetic_pipeline(**kwargs):
    """The reporting pipeline with the DenseNet rebuild replaced by :class:`FakeExtractor`
    (the real rebuild is exercised by the demo run, test_demo_run.py)."""
    full = create_pipeline(**kwargs)
    return full - full.only_nodes("build_cam_extractor")


@pytest.fixture(scope="session")
def report_run(tmp_path_factory):
    catalog = synthetic_catalog(tmp_path_factory.mktemp("report"))
    catalog["report_cam_extractor"] = MemoryDataset(FakeExtractor(), copy_mode="assign")
    SequentialRunner().run(synthetic_pipeline(), catalog)
    return catalog


@pytest.fixture(scope="session")
def clinical_only_run(tmp_path_factory):
    """The clinical-only report: no image-derived input, integrated model not available."""
    catalog = synthetic_catalog(
        tmp_path_factory.mktemp("report_clinical"), integrated=False, images=False
    )
    SequentialRunner().run(create_pipeline().only_nodes_with_tags("clinical_report"), catalog)
    return catalog


@pytest.fixture(scope="session")
def report_html_path(report_run, tmp_path_factory):
    path = tmp_path_factory.mktemp("html") / "report.html"
    path.write_text(report_run.load("hcc_nomogram_report"), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def demo_project(tiny_demo_cohort, tmp_path_factory):
    """A project copy in which the default pipeline ran on the 20-patient tiny demo cohort
    (demo_run.py); ~1.5 min on 2 cores. Tests read its outputs and must not modify them."""
    from demo_run import build_demo_project

    return build_demo_project(tmp_path_factory.mktemp("demo_project"), tiny_demo_cohort)
