"""Header-only index: series table, non-DICOM and corrupt files, the cache, real headers."""

from __future__ import annotations

import json
import logging
import os

import pytest
import SimpleITK as sitk
from pydicom.uid import generate_uid

from hcc_nomogram.datasets.dicom import DicomExport
from hcc_nomogram.datasets.image import read_image
from hcc_nomogram.demo.dicom_export import ct_datasets, write_series
from hcc_nomogram.ingest.index import index_files, series_table
from hcc_nomogram.ingest.params import IngestParams
from hcc_nomogram.ingest.series import read_series
from hcc_nomogram.pipelines.ingest.nodes import index_dicom_export
from ingest.dicom_export import HCC048, tiny_ct


def test_series_table_of_a_mixed_export(dicom_tree):
    files, counts = index_files(dicom_tree / "export")
    series = series_table(files)
    assert counts["not_dicom"] == 2  # one README per patient, skipped and counted
    assert counts["unreadable"] == 0
    one = series[series["patient_id"] == "DCM-HCC0001"]
    descriptions = sorted(one["series_description"])
    assert descriptions == sorted(
        ["Arterial phase 1.0 B30f", "Portal venous 1.0 B30f", "Delayed 180s", "Topogram 0.6 T20f",
         "Dose Report", "Tumour r1a", "Tumour r1a", "Tumour r1b", "Tumour r1b", "Contours r2",
         "Contours r2"]
    )  # fmt: skip
    art = one[one["series_description"] == "Arterial phase 1.0 B30f"].iloc[0]
    assert art["n_slices"] == len(json.loads(art["files"])) == 17
    assert art["geometry_problem"] == "" and art["contrast_agent"] == "IOPAMIDOL"
    # SEG / RTSTRUCT: the referenced series and the segment / ROI names
    seg = one[one["modality"] == "SEG"]
    assert set(seg["referenced_series"]) <= set(one["series_uid"])
    assert {s["label"] for v in seg["segments"] for s in json.loads(v)} == {"Tumour"}
    rt = one[one["modality"] == "RTSTRUCT"].iloc[0]
    assert json.loads(rt["segments"])[0]["label"] == "Tumour"
    # the RLE-compressed patient is indexed like the other one
    two = series[series["patient_id"] == "DCM-HCC0002"]
    assert "1.2.840.10008.1.2.5" in set(two["transfer_syntax"])
    # no names, birth dates or accession numbers are indexed
    assert not {"PatientName", "PatientBirthDate", "AccessionNumber"} & set(files.columns)


def test_index_reads_headers_only_and_keeps_corrupt_files(tmp_path, caplog):
    paths = write_series(
        ct_datasets(tiny_ct(), patient_id="X", study_uid=generate_uid(), frame_uid=generate_uid(),
                    description="Arterial", series_number=1, acquisition_time="100000"),
        tmp_path / "s",
    )  # fmt: skip
    # cut the last slice in the middle of its pixel data: headers are intact, pixels are not
    data = paths[-1].read_bytes()
    paths[-1].write_bytes(data[: len(data) - 100])
    # a file with a DICOM preamble cut inside its header
    (tmp_path / "s" / "broken.dcm").write_bytes(paths[0].read_bytes()[:300])
    files, counts = index_files(tmp_path)
    assert counts["dicom"] == 24  # the truncated slice was indexed: pixel data never read
    assert counts["unreadable"] == 1
    series = series_table(files)
    broken = series[series["error"] != ""]
    assert json.loads(broken.iloc[0]["files"]) == ["s/broken.dcm"]
    assert "incomplete header" in broken.iloc[0]["error"]
    with caplog.at_level(logging.WARNING):
        index_dicom_export(DicomExport(tmp_path), IngestParams())
    assert "unreadable file s/broken.dcm" in caplog.text


def test_cache_reuses_unchanged_files_and_rereads_changed_ones(tmp_path):
    folder = tmp_path / "export"
    paths = write_series(
        ct_datasets(tiny_ct(), patient_id="X", study_uid=generate_uid(), frame_uid=generate_uid(),
                    description="Arterial", series_number=1, acquisition_time="100000"),
        folder,
    )  # fmt: skip
    export = DicomExport(folder, tmp_path / "cache.parquet")
    first, c1 = export.index()
    assert c1["from_cache"] == 0 and (tmp_path / "cache.parquet").exists()
    second, c2 = export.index()
    assert c2["from_cache"] == 24
    assert second.equals(first)
    stat = paths[0].stat()
    os.utime(paths[0], ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    _third, c3 = export.index()
    assert c3["from_cache"] == 23


@pytest.mark.skipif(not HCC048.is_dir(), reason=f"real DICOM series not present at {HCC048}")
def test_real_hcc048_headers_and_quiet_series_read(capfd):
    files, counts = index_files(HCC048)
    assert counts["dicom"] == 89 and counts["not_dicom"] == 2  # LICENSE, README.md
    series = series_table(files)
    row = series.iloc[0]
    assert len(series) == 1 and row["modality"] == "CT" and row["n_slices"] == 89
    assert row["geometry_problem"] == "" and row["series_description"].startswith("Recon 3")
    image = read_series([HCC048 / f for f in json.loads(row["files"])])
    assert image.GetSize() == (512, 512, 89)
    assert image.GetMetaDataKeys() == ()
    # the index's slice order gives GDCM's own series geometry and voxels
    reference = read_image(HCC048)
    assert image.GetOrigin() == reference.GetOrigin()
    assert image.GetSpacing() == pytest.approx(reference.GetSpacing())
    assert image.GetDirection() == pytest.approx(reference.GetDirection())
    assert (sitk.GetArrayViewFromImage(image) == sitk.GetArrayViewFromImage(reference)).all()
    captured = capfd.readouterr()
    assert "HDF5" not in captured.out + captured.err
