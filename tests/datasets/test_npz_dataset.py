"""NpzDataset writes standard .npz archives at a chosen zlib level (checked with np.load,
zipfile and NumPy's own writer, not with the dataset's reader)."""

import zipfile

import numpy as np
import pytest
from kedro.io import DatasetError

from hcc_nomogram.datasets import NpzDataset


def _crops():
    rng = np.random.default_rng(3)
    image = np.round(rng.normal(size=(224, 224)), 2).astype(np.float32)
    mask = np.zeros((224, 224), np.uint8)
    mask[90:130, 80:140] = 1
    return {"arterial__r1a__image": image, "arterial__r1a__mask": mask}


@pytest.mark.parametrize("level", [0, 1, 6, 9])
def test_archives_are_standard_npz_at_the_chosen_level(tmp_path, level):
    path = tmp_path / "p.npz"
    NpzDataset(str(path), compress_level=level).save(_crops())
    with np.load(path, allow_pickle=False) as archive:  # NumPy's reader
        assert archive.files == list(_crops())
        for name, value in _crops().items():
            assert archive[name].dtype == value.dtype
            np.testing.assert_array_equal(archive[name], value)
    with zipfile.ZipFile(path) as z:
        kinds = {info.compress_type for info in z.infolist()}
    assert kinds == {zipfile.ZIP_STORED if level == 0 else zipfile.ZIP_DEFLATED}


def test_level_6_is_byte_for_byte_numpys_savez_compressed(tmp_path):
    NpzDataset(str(tmp_path / "ours.npz"), compress_level=6).save(_crops())
    np.savez_compressed(tmp_path / "numpy.npz", **_crops())
    assert (tmp_path / "ours.npz").read_bytes() == (tmp_path / "numpy.npz").read_bytes()


def test_default_level_is_faster_zlib_and_deterministic(tmp_path):
    data = _crops()
    for name in ("a", "b"):
        NpzDataset(str(tmp_path / f"{name}.npz")).save(data)
    np.savez_compressed(tmp_path / "six.npz", **data)
    ours = (tmp_path / "a.npz").read_bytes()
    assert ours == (tmp_path / "b.npz").read_bytes()  # same arrays, same bytes
    assert ours != (tmp_path / "six.npz").read_bytes()  # level 1, not NumPy's level 6
    assert len(ours) < sum(v.nbytes for v in data.values())  # still compressed


@pytest.mark.parametrize("level", [-1, 10, 1.5, "1"])
def test_a_bad_level_names_the_file_and_the_range(tmp_path, level):
    with pytest.raises(DatasetError, match=r"p\.npz.*compress_level must be an integer from 0"):
        NpzDataset(str(tmp_path / "p.npz"), compress_level=level)
