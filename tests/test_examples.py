"""Every gallery example runs in its quick mode and saves a figure.

The scripts are found by glob, so a new ``examples/plot_*.py`` is tested
without editing this file. Each runs in a subprocess, in a temporary working
directory (where it writes its PNG), with ``SKAE_EXAMPLE_QUICK=1`` (its tiny
settings) and matplotlib's non-interactive Agg backend.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("plot_*.py"))


def _example_env():
    env = dict(os.environ)
    env["SKAE_EXAMPLE_QUICK"] = "1"
    env["MPLBACKEND"] = "Agg"
    # Import skae from this source tree, whatever the working directory.
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p
    )
    # Tiny settings gain nothing from threads; on a shared CPU they cost.
    env.setdefault("OMP_NUM_THREADS", "1")
    return env


def test_examples_are_found():
    """Check that the glob finds the gallery (a moved folder would skip all)."""
    assert EXAMPLES, f"no examples/plot_*.py under {ROOT}"


@pytest.mark.parametrize("script", EXAMPLES, ids=lambda p: p.name)
def test_example_runs_quick_and_saves_png(script, tmp_path):
    """Check that the example honours the quick switch, exits 0 and writes a PNG."""
    assert "SKAE_EXAMPLE_QUICK" in script.read_text(), (
        f"{script.name} has no quick mode: read SKAE_EXAMPLE_QUICK near the top "
        "and use tiny settings when it is '1'."
    )
    proc = subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        env=_example_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, (
        f"{script.name} exited with {proc.returncode}:\n{proc.stderr[-3000:]}"
    )
    pngs = list(tmp_path.rglob("*.png"))
    assert pngs, f"{script.name} wrote no PNG into its working directory"
