"""Defect 4: an unknown or misspelled parameter key is an error naming the key, the allowed keys
and the file -- before any node runs -- instead of being ignored (its default used silently)
or surfacing as a raw ``TypeError``."""

from __future__ import annotations

import copy

import pytest
import yaml
from project_helpers import REPO_ROOT, run_project

from hcc_nomogram.errors import InputDataError
from hcc_nomogram.parameters import BLOCKS, check_parameters
from reliability.cohorts import digest


def _base_parameters() -> dict:
    params = {}
    for path in sorted((REPO_ROOT / "conf" / "base").glob("parameters*.yml")):
        params.update(yaml.safe_load(path.read_text(encoding="utf-8")) or {})
    return params


def test_the_shipped_parameters_are_valid_and_every_block_has_a_model():
    params = _base_parameters()
    check_parameters(params)
    assert set(params) == set(BLOCKS)


@pytest.mark.parametrize(
    ("edit", "key", "allowed", "file"),
    [
        (
            lambda p: p["data_contract"].update(mask_lable=1),
            "data_contract.mask_lable",
            "'mask_label'",
            "conf/base/parameters.yml",
        ),
        (
            lambda p: p["data_contract"]["outcomes"]["os"].update(tiem="x"),
            "data_contract.outcomes.os.tiem",
            "['event', 'time']",
            "conf/base/parameters.yml",
        ),
        (
            lambda p: p["predict"].update(horizon_months=[12]),
            "predict.horizon_months",
            "'horizons_months'",
            "conf/base/parameters_predict.yml",
        ),
        (
            lambda p: p["preprocessing"]["crop"].update(szie=3),
            "preprocessing.crop",
            "'size'",
            "conf/base/parameters_preprocessing.yml",
        ),
        (
            lambda p: p["preprocessing"]["intensity"].update(normalisation="roi"),
            "preprocessing.intensity",
            "'normalization'",
            "conf/base/parameters_preprocessing.yml",
        ),
        (
            lambda p: p["nomogram"]["bootstrap"].update(n_resampels=5),
            "nomogram.bootstrap.n_resampels",
            "'n_resamples'",
            "conf/base/parameters_nomogram.yml",
        ),
        (
            lambda p: p["signature"]["cv"].update(nfolds=3),
            "signature.cv.nfolds",
            "'n_folds'",
            "conf/base/parameters_signature.yml",
        ),
        (lambda p: p.update(predcit={}), "predcit", "'predict'", "conf/base/parameters*.yml"),
    ],
)
def test_misspelled_key_names_key_allowed_keys_and_file(edit, key, allowed, file):
    params = copy.deepcopy(_base_parameters())
    edit(params)
    with pytest.raises(InputDataError) as info:
        check_parameters(params)
    text = str(info.value)
    assert key in text and allowed in text and file in text, text
    assert "TypeError" not in text and "unexpected keyword" not in text


def test_every_problem_is_listed_at_once():
    params = copy.deepcopy(_base_parameters())
    params["data_contract"]["mask_lable"] = 1
    params["predict"]["on_out_of_range"] = "ignore"
    with pytest.raises(InputDataError) as info:
        check_parameters(params)
    assert "data_contract.mask_lable" in str(info.value)
    assert "predict.on_out_of_range" in str(info.value) and "'refuse'" in str(info.value)


@pytest.mark.slow
def test_kedro_run_with_a_misspelled_key_stops_before_any_node(project):
    params = project / "conf" / "local" / "parameters.yml"
    params.write_text(params.read_text() + "data_contract:\n  mask_lable: 2\n")
    with pytest.raises(InputDataError, match=r"data_contract\.mask_lable: unknown key"):
        run_project(project, ["preprocessing"])
    assert digest(project / "data") == {}


def test_fixed_phase_outside_the_contract_phases_stops_the_run_once():
    params = copy.deepcopy(_base_parameters())
    params["preprocessing"].setdefault("registration", {})["fixed_phase"] = "venous"
    with pytest.raises(InputDataError) as info:
        check_parameters(params)
    text = str(info.value)
    assert "preprocessing.registration.fixed_phase: 'venous'" in text, text
    assert "['arterial', 'portal']" in text and "conf/base/parameters_preprocessing.yml" in text


@pytest.mark.slow
def test_kedro_run_with_a_misspelled_key_of_a_typed_block_gives_the_project_message(project):
    """``nomogram`` is a typed ``params:`` input (Kedro validates it too): the project's check
    runs first, so the message names the key, the allowed keys and the file."""
    typo = project / "conf" / "local" / "parameters_typo.yml"  # merged with parameters.yml
    typo.write_text("nomogram:\n  bootstrap:\n    n_resampels: 5\n")
    with pytest.raises(InputDataError, match=r"nomogram\.bootstrap\.n_resampels: unknown key"):
        run_project(project, ["nomogram"])
    assert digest(project / "data") == {}


def test_settings_naming_data_contract_values_are_checked_once_per_run():
    params = copy.deepcopy(_base_parameters())
    params["deep_features"]["icc"]["comparisons"]["inter"] = ["r1a", "r3"]
    del params["data_contract"]["delineations"]["r2"]["portal"]
    with pytest.raises(InputDataError) as info:
        check_parameters(params)
    text = str(info.value)
    assert "deep_features.icc.comparisons.inter" in text and "['r1a', 'r3']" in text, text
    assert "data_contract.delineations.r2: no mask column for phase(s) ['portal']" in text
    assert "conf/base/parameters_deep_features.yml" in text and "conf/base/parameters.yml" in text


def test_a_node_called_directly_reports_a_bad_block_like_the_run_check():
    """Outside ``kedro run`` (a test, a notebook) a node's ``typed`` conversion raises the same
    message: dotted key, what is wrong, the file."""
    from hcc_nomogram.pipelines.preprocessing.nodes import validate_cohort_images

    params = _base_parameters()
    with pytest.raises(InputDataError) as info:
        validate_cohort_images(None, params["data_contract"], {"crop": {"szie": 3}}, {})
    text = str(info.value)
    assert "preprocessing.crop.szie: unknown key" in text and "'size'" in text, text
    assert "conf/base/parameters_preprocessing.yml" in text
    wrong_phase = {"registration": {"fixed_phase": "venous"}}
    with pytest.raises(InputDataError, match=r"preprocessing\.registration\.fixed_phase: 'venous'"):
        validate_cohort_images(None, params["data_contract"], wrong_phase, {})
