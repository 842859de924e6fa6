"""The report states masks carried between phases and ICC filters that were not computed."""

from __future__ import annotations

import numpy as np
import pandas as pd
import synthetic as S

from hcc_nomogram.parameters import DataContract, typed
from hcc_nomogram.report.sections import (
    carried_masks,
    preprocessing_section,
    reproducibility_section,
)


def test_carried_masks_are_listed_in_the_preprocessing_section():
    qc = pd.DataFrame(
        {
            "patient_id": ["P1", "P2"],
            "excluded": [False, False],
            "portal__r1a__mask_carried_from": ["arterial", np.nan],
        }
    )
    assert carried_masks(qc).to_dict("records") == [
        {"patient_id": "P1", "phase": "portal", "delineation": "r1a", "carried from": "arterial"}
    ]
    crop = {
        f"{ph}__r1a__{kind}": np.zeros((8, 8), np.float32)
        for ph in ("arterial", "portal")
        for kind in ("image", "mask")
    }
    _figs, section = preprocessing_section(
        qc, {"P1": crop, "P2": crop}, typed(DataContract, S.CONTRACT)
    )
    html = "".join(section.blocks)
    assert "carried to the other phase" in html and "<td>arterial</td>" in html


def test_icc_filter_not_computed_is_stated():
    table = pd.DataFrame(
        {
            "feature": ["f1", "f2"],
            "intra_icc": [0.9, 0.5],
            "intra_status": ["computed"] * 2,
            "inter_icc": [np.nan, np.nan],
            "inter_status": ["not computed: 2 patient(s) with both r1a and r2 (>= 3 needed)"] * 2,
            "reproducible": [True, False],
        }
    )
    _figs, section = reproducibility_section({"arterial": table}, threshold=0.75)
    html = "".join(section.blocks)
    assert "arterial: ICC filter &#x27;inter&#x27; not computed: 2 patient(s)" in html
    assert "it is not applied" in html
