"""Digest of every file a default `kedro run` writes on the tiny demo cohort (issue 13: "the demo
run's datasets are identical before/after").

Usage (from the checkout whose sources are first on PYTHONPATH; a second checkout of the old
commit, e.g. ``git archive <commit> src tests conf notebooks pyproject.toml | tar -x -C OLD``)::

    PYTHONPATH=$PWD/src python benchmarks/demo_outputs_digest.py . new.json /tmp/run_new
    cd OLD && PYTHONPATH=$PWD/src python $NEW/benchmarks/demo_outputs_digest.py . old.json run_old

writes ``{file under data/, version folder removed: sha256}``; compare the two JSON files.
Whatever the code, the wall-clock columns (``seconds``, ``registration_seconds``) of the
preprocessing QC differ, and so do ``created_utc`` (weights provenance, training settings, the
report) unless both runs fall in the same second.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from pathlib import Path

VERSION = re.compile(r"/\d{4}-\d\d-\d\dT[\d.]+Z(?=/|$)")


def main(repo: Path, out: Path, work: Path) -> None:
    sys.path[:0] = [str(repo / "tests"), str(repo / "tests" / "report")]
    from demo_run import build_demo_project

    import hcc_nomogram
    from hcc_nomogram.demo import write_tiny_demo_cohort

    if not Path(hcc_nomogram.__file__).resolve().is_relative_to(repo.resolve()):
        raise SystemExit(f"hcc_nomogram is imported from {hcc_nomogram.__file__}, not {repo}")
    root = build_demo_project(work / "project", write_tiny_demo_cohort(work / "cohort"))
    digest = {
        VERSION.sub("", str(f.relative_to(root))): hashlib.sha256(f.read_bytes()).hexdigest()
        for f in sorted((root / "data").rglob("*"))
        if f.is_file()
    }
    out.write_text(json.dumps(digest, indent=1, sort_keys=True))
    print(f"{len(digest)} files -> {out}")


if __name__ == "__main__":
    main(*(Path(a) for a in sys.argv[1:4]))
