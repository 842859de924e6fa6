"""A small real run of the default pipeline for the report tests (once per session).

Reuses the lead's end-to-end helpers (``tests/project_helpers.py``: ``make_project``,
``run_project``, ``FAST_PARAMETERS``) on the 20-patient ``tiny_demo_cohort``. The nomogram
candidates are cut to three binary factors and the screening P raised to 0.2: with 12 training
patients the full list separates (ModelFitError), and no clinical factor reaches P < 0.05.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import yaml
from project_helpers import FAST_PARAMETERS, make_project, run_project

REPO_ROOT = Path(__file__).resolve().parents[2]

#: deep-merged into the lead's FAST_PARAMETERS (conf/local/parameters.yml of the copy)
TINY_OVERRIDES = {
    "nomogram": {
        "univariate_p_threshold": 0.2,
        "candidate_factors": [
            {
                "name": "nodules",
                "column": "nodule_count",
                "kind": "continuous",
                "cutoff": 3,
                "label": "Nodules > 3",
            },
            {
                "name": "afp",
                "column": "afp_ng_ml",
                "kind": "continuous",
                "cutoff": 400,
                "label": "AFP > 400 ng/mL",
            },
            {
                "name": "hvi",
                "column": "hepatic_vein_invasion",
                "kind": "categorical",
                "reference": 0,
                "label": "Hepatic vein invasion",
            },
        ],
    },
    "reporting": {"n_example_patients": 2},
}


def _merge(base: dict, extra: dict) -> dict:
    out = dict(base)
    for key, value in extra.items():
        out[key] = (
            _merge(out[key], value)
            if isinstance(value, dict) and isinstance(out.get(key), dict)
            else value
        )
    return out


def build_demo_project(root: Path, cohort: Path) -> Path:
    """Project copy at ``root`` reading ``cohort``, with the notebook, after `kedro run`."""
    make_project(root, cohort)
    params = _merge(yaml.safe_load(FAST_PARAMETERS) or {}, TINY_OVERRIDES)
    (root / "conf" / "local" / "parameters.yml").write_text(
        yaml.safe_dump(params), encoding="utf-8"
    )
    # `%reload_kedro` (kedro.ipython) bootstraps the project and needs a src/ folder inside it;
    # the package itself is imported from the environment
    (root / "src").mkdir(exist_ok=True)
    shutil.copytree(
        REPO_ROOT / "notebooks",
        root / "notebooks",
        ignore=shutil.ignore_patterns(".ipynb_checkpoints"),
    )
    run_project(root)
    return root


def latest(root: Path, relative: str) -> Path:
    """Newest version of a versioned dataset file, e.g. ``data/08_reporting/x.html``."""
    folder = root / relative
    return sorted(folder.iterdir())[-1] / folder.name


def section_ids(html: str) -> list[str]:
    return re.findall(r'<section id="([a-z_]+)"', html)
