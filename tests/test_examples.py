"""Every gallery example runs, shrunk, and saves a figure.

The scripts are found by glob, so a new ``examples/plot_*.py`` is tested
without editing this file. They are published as they are, so they carry no
test scaffolding (no environment switches): the test shrinks them from the
outside instead. Each runs in a subprocess, in a temporary working directory
(where it writes its PNG), with matplotlib's non-interactive Agg backend,
through a prelude (``_PRELUDE``) that, before running the script with
:func:`runpy.run_path`,

* caps the ``max_epochs`` of every skae estimator (and of the autoencoders
  that :class:`skae.AEOutlierDetector` builds) at ``fit`` time, through
  ``set_params``: only their public parameters are touched;
* caps the few other costly parameters that the examples use (``_CAPS``),
  such as t-SNE's ``max_iter`` or the VAE's ``n_importance_samples``;
* runs joblib sequentially, so that ``n_jobs=2`` starts no worker
  processes (each would import torch again).

The prelude checks that it patched what it meant to (a renamed parameter
fails the test rather than running the example at full size).
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("plot_*.py"))

# Upper bounds of parameters while the examples run under test:
# "module:Class" -> {parameter: cap}. The max_epochs cap applies to every
# skae estimator that has the parameter (added by the prelude).
MAX_EPOCHS = 2
_CAPS = {
    "sklearn.manifold:TSNE": {"max_iter": 250},  # its smallest allowed value
    "skae:VAETransformer": {"n_importance_samples": 10},
    "sklearn.model_selection:GridSearchCV": {"cv": 2},
    "sklearn.linear_model:LogisticRegression": {"max_iter": 100},
}

_PRELUDE = r"""
import ast, functools, importlib, inspect, numbers, runpy, sys

import joblib
import skae

script, max_epochs, caps = sys.argv[1], int(sys.argv[2]), ast.literal_eval(sys.argv[3])
plan = {}
for name in skae.__all__:
    cls = getattr(skae, name)
    if inspect.isclass(cls) and "max_epochs" in inspect.signature(cls).parameters:
        plan.setdefault(cls, {})["max_epochs"] = max_epochs
assert plan, "no skae estimator has a max_epochs parameter"
for target, params in caps.items():
    module, name = target.split(":")
    cls = getattr(importlib.import_module(module), name)
    missing = set(params) - set(inspect.signature(cls).parameters)
    assert not missing, f"{target} has no parameter {sorted(missing)}"
    plan.setdefault(cls, {}).update(params)


def capped(method, params):
    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        current = {k: getattr(self, k) for k in params}
        self.set_params(**{
            k: min(v, params[k]) for k, v in current.items()
            if isinstance(v, numbers.Real)  # a cv splitter object is left alone
        })
        return method(self, *args, **kwargs)

    return wrapper


for cls, params in plan.items():
    for method in ("fit", "fit_transform"):
        if hasattr(cls, method):
            setattr(cls, method, capped(getattr(cls, method), params))

sys.argv = [script]
with joblib.parallel_config(backend="sequential"):
    runpy.run_path(script, run_name="__main__")
"""


def _example_env():
    env = dict(os.environ)
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
def test_example_has_no_test_scaffolding(script):
    """Check that a published example reads no switch meant for its tests."""
    text = script.read_text()
    for scaffolding in ("os.environ", "getenv", "QUICK", "SKAE_"):
        assert scaffolding not in text, (
            f"{script.name} contains {scaffolding!r}: the gallery shows the "
            "script as it is; tests/test_examples.py shrinks it from outside."
        )


@pytest.mark.parametrize("script", EXAMPLES, ids=lambda p: p.name)
def test_example_runs_shrunk_and_saves_png(script, tmp_path):
    """Check that the example, with its costs capped, exits 0 and writes a PNG."""
    proc = subprocess.run(
        [sys.executable, "-c", _PRELUDE, str(script), str(MAX_EPOCHS), repr(_CAPS)],
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
