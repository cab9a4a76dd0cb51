"""Every script in examples/ runs to the end and exits 0.

The scripts check their own results with asserts; here they run in a subprocess (as CI and a user
run them), with glmlogit's warnings (UserWarning subclasses) and RuntimeWarnings (overflow,
invalid values) turned into errors.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = sorted((Path(__file__).resolve().parent.parent / "examples").glob("*.py"))


def test_there_are_examples():
    assert len(EXAMPLES) >= 2


@pytest.mark.parametrize("script", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_runs(script):
    cmd = [sys.executable, "-W", "error::UserWarning", "-W", "error::RuntimeWarning", str(script)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, cwd=script.parent)
    assert proc.returncode == 0, (
        f"{script.name} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    )
    assert proc.stdout.strip(), f"{script.name} printed nothing"
