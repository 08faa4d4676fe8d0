"""Every gallery example runs, shrunk, and saves a figure.

The scripts are found by glob, so a new ``examples/plot_*.py`` is tested
without editing this file. They are published as they are, so they carry no
test scaffolding (no environment switches, checked below): the test shrinks
them from the outside instead, through a prelude (``_PRELUDE``) that, before
running them,

* caps the ``max_epochs`` of every skae estimator that has the parameter
  (the autoencoders that :class:`skae.AEOutlierDetector` builds included)
  when it is fitted, through ``set_params``: only public parameters are
  touched, and skae is not changed;
* caps the few other costly parameters that the examples use (``_CAPS``),
  such as t-SNE's ``max_iter``, UMAP's ``n_epochs`` or the VAE's
  ``n_importance_samples`` (a size chosen from the data, ``"auto"`` or
  None, is set to the cap);
* runs joblib sequentially, so that ``n_jobs=2`` starts no worker
  processes (each would import torch again).

The prelude checks that it patched what it meant to: a renamed parameter
fails the tests rather than running the examples at full size.

The selected examples run one after the other in a single subprocess, as
sphinx-gallery runs them in one process when it builds the docs: importing
torch and skae, and skae's first fit, cost several seconds, paid once. Each
script runs with :func:`runpy.run_path` in its own working directory (where
it writes its PNG) with matplotlib's non-interactive Agg backend; its
figures are closed after it, and an exception is reported against that
example alone.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("plot_*.py"))

# Upper bounds of parameters while the examples run under test:
# "module:Class" -> {parameter: cap}, applied when an instance is fitted
# (numbers, "auto" and None only: a cv splitter object is left alone). The max_epochs cap is
# added for every skae estimator that has the parameter.
MAX_EPOCHS = 2
_CAPS = {
    "sklearn.manifold:TSNE": {"max_iter": 250},  # its smallest allowed value
    "skae:VAETransformer": {"n_importance_samples": 10},
    "skae:AutoEncoderClassifier": {"pretraining_epochs": 2},
    "sklearn.model_selection:GridSearchCV": {"cv": 2},
    "sklearn.linear_model:LogisticRegression": {"max_iter": 100},
    "umap:UMAP": {"n_epochs": 10},
    "openTSNE:TSNE": {"early_exaggeration_iter": 10, "n_iter": 10},
}

_PRELUDE = r"""
import ast, functools, importlib, inspect, json, numbers, os, runpy, sys
import traceback

import joblib
import matplotlib.pyplot as plt
import skae

report, max_epochs, caps = sys.argv[1], int(sys.argv[2]), ast.literal_eval(sys.argv[3])
jobs = ast.literal_eval(sys.argv[4])  # [(script, working directory), ...]

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


def capped(method, caps):
    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        current = {k: getattr(self, k) for k in caps}
        # A number is lowered to its cap; "auto" or None (a size chosen
        # from the data, as NeighborEmbeddingAE's max_epochs or UMAP's
        # n_epochs) becomes the cap.
        capped = {
            k: min(v, caps[k]) if isinstance(v, numbers.Real) else caps[k]
            for k, v in current.items()
            if isinstance(v, numbers.Real) or v is None or v == "auto"
        }
        self.set_params(**capped)
        return method(self, *args, **kwargs)

    return wrapper


for cls, caps in plan.items():
    for method in ("fit", "fit_transform"):
        if hasattr(cls, method):
            setattr(cls, method, capped(getattr(cls, method), caps))

results = {}
with joblib.parallel_config(backend="sequential"):
    for script, workdir in jobs:
        os.chdir(workdir)
        sys.argv = [script]
        try:
            runpy.run_path(script, run_name="__main__")
            results[script] = None
        except BaseException:
            results[script] = traceback.format_exc()
        finally:
            plt.close("all")
        with open(report, "w") as f:
            json.dump(results, f)
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


@pytest.fixture(scope="module")
def gallery_run(request, tmp_path_factory):
    """Run the selected examples, shrunk, in one subprocess.

    Returns ``(results, workdirs, proc)``: ``results`` maps a script's path
    to None (it ran) or its traceback, and lacks the scripts not reached.
    """
    test_name = test_example_runs_shrunk_and_saves_png.__name__
    selected = [
        item.callspec.params["script"]
        for item in request.session.items
        if getattr(item, "originalname", None) == test_name
    ] or EXAMPLES
    base = tmp_path_factory.mktemp("examples")
    workdirs = {}
    for script in dict.fromkeys(selected):
        workdirs[str(script)] = base / script.stem
        workdirs[str(script)].mkdir()
    report = base / "report.json"
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            _PRELUDE,
            str(report),
            str(MAX_EPOCHS),
            repr(_CAPS),
            repr([(s, str(d)) for s, d in workdirs.items()]),
        ],
        cwd=base,
        env=_example_env(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    results = json.loads(report.read_text()) if report.exists() else {}
    return results, workdirs, proc


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


# One worker runs them all: each worker that ran one would run the whole
# gallery_run fixture (about 40 s).
@pytest.mark.xdist_group("gallery_run")
@pytest.mark.parametrize("script", EXAMPLES, ids=lambda p: p.name)
def test_example_runs_shrunk_and_saves_png(script, gallery_run):
    """Check that the example, with its costs capped, runs and writes a PNG."""
    results, workdirs, proc = gallery_run
    assert str(script) in results, (
        f"{script.name} did not run: the examples' process exited with "
        f"{proc.returncode} before it:\n{proc.stderr[-3000:]}"
    )
    error = results[str(script)]
    assert error is None, f"{script.name} raised:\n{error[-3000:]}"
    pngs = list(workdirs[str(script)].rglob("*.png"))
    assert pngs, f"{script.name} wrote no PNG into its working directory"
