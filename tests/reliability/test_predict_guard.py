"""Defect 6 (unit level; the pipeline runs are in tests/pipelines/test_predict_pipeline.py): an
input far outside the training range is named, with the margin, instead of answered silently."""

from __future__ import annotations

import pandas as pd
import pytest

from hcc_nomogram.errors import InputDataError
from hcc_nomogram.parameters import PredictParams, check_parameters
from hcc_nomogram.pipelines.predict.guards import (
    crop_far_outside,
    crop_training_ranges,
    far_out_of_range,
)

RANGES = {"signature_score": (0.0, 1.0), "age_years": (30.0, 80.0)}


@pytest.mark.parametrize(
    ("values", "n_reasons"),
    [
        ({"signature_score": -4.1, "age_years": 50.0}, 1),  # the tumour cut by the corner
        ({"signature_score": 1.49, "age_years": 104.9}, 0),  # outside, but within 0.5 x the width
        ({"signature_score": 1.51, "age_years": 105.1}, 2),  # 1 + 0.5 x 1; 80 + 0.5 x 50
        ({"signature_score": float("nan"), "age_years": 50.0}, 1),
    ],
)
def test_far_out_of_range_uses_the_margin_times_the_training_width(values, n_reasons):
    reasons = far_out_of_range(values, RANGES, margin=0.5)
    assert len(reasons) == n_reasons
    if values["signature_score"] == -4.1:
        assert reasons == [
            "signature_score=-4.1 is far outside the training range [0, 1] "
            "(beyond the margin of 0.5 x its width)"
        ]


def test_margin_zero_refuses_anything_outside_the_range():
    assert far_out_of_range({"signature_score": 1.0001}, RANGES, margin=0.0)
    assert not far_out_of_range({"signature_score": 1.0}, RANGES, margin=0.0)


def test_predict_parameters_default_to_refuse_and_reject_unknown_modes():
    params = PredictParams.model_validate({})
    assert params.on_out_of_range == "refuse" and params.out_of_range_margin == 0.5
    with pytest.raises(InputDataError, match=r"predict\.out_of_range_margin"):
        check_parameters({"predict": {"out_of_range_margin": -1}})
    with pytest.raises(InputDataError, match=r"predict\.on_out_of_range"):
        check_parameters({"predict": {"on_out_of_range": "ignore"}})


def test_crop_guard_uses_the_training_qc_range_on_the_high_side_only():
    """Training crops 70-80 % outside the image (small demo volumes): 84 % is within the margin
    (0.8 + 0.5 x 0.1 = 0.85), 90 % is refused, and less padding than in training is no reason."""
    col = "arterial__r1a__crop_outside_fraction"
    qc = pd.DataFrame(
        {
            "patient_id": ["T1", "T2", "T3", "V1"],
            "excluded": [False] * 4,
            col: [0.7, 0.8, 0.75, 0.99],  # V1: a validation patient, not training
            "arterial__r1b__crop_outside_fraction": [0.0, 0.0, 0.0, 0.0],
        }
    )
    ranges = crop_training_ranges(qc, ["T1", "T2", "T3"], "r1a")
    assert ranges == {col: (0.7, 0.8)}
    # slack = max(0.5 x (0.8 - 0.7), 0.5 x (1 - 0.8)) = 0.1: refused only above 0.9
    assert crop_far_outside({col: 0.84}, ranges, 0.5) == []
    assert crop_far_outside({col: 0.9}, ranges, 0.5) == []
    assert crop_far_outside({col: 0.1}, ranges, 0.5) == []
    (reason,) = crop_far_outside({col: 0.91}, ranges, 0.5)
    assert reason.startswith("crop mostly outside the body: " + col + "=0.91 is far outside")
    # a wide training range: its margin (0.5 x 0.6 = 0.3 > 0.5 x 0.3) is the slack
    assert crop_far_outside({col: 0.99}, {col: (0.1, 0.7)}, 0.5) == []
    assert crop_far_outside({col: 1.0}, {col: (0.1, 0.69)}, 0.5)
    # full-size CTs, no training crop outside the image: refused only when more than half out
    assert crop_far_outside({col: 0.05}, {col: (0.0, 0.0)}, 0.5) == []
    assert crop_far_outside({col: 0.5}, {col: (0.0, 0.0)}, 0.5) == []
    assert crop_far_outside({col: 0.51}, {col: (0.0, 0.0)}, 0.5)
    assert crop_far_outside({col: float("nan")}, ranges, 0.5)
    assert crop_training_ranges(qc.drop(columns=[col]), ["T1"], "r1a") == {}
