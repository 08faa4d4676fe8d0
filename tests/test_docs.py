"""The documentation covers the public API, and its examples are tested.

Sphinx itself runs in CI (``sphinx-build -W``); these checks are the cheap
part that runs with the unit tests: every public class has an Examples
section that pytest collects as a doctest, and every public class and
function has an entry in the API reference.
"""

import doctest
import importlib
import importlib.util
import inspect
import sys
from pathlib import Path

import pytest

import skae
import skae.modules

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    tomllib = None

ROOT = Path(__file__).resolve().parents[1]
API_RST = ROOT / "docs" / "api.rst"

# Modules whose public functions are part of the API (pure tensor functions
# that users may call); skipped when a module does not exist yet.
FUNCTION_MODULES = ["skae.losses", "skae.noise", "skae.graph"]


def _public_objects():
    objs = {}
    for module in (skae, skae.modules):
        for name in module.__all__:
            obj = getattr(module, name)
            if inspect.isclass(obj) or inspect.isfunction(obj):
                objs[f"{module.__name__}.{name}"] = obj
    for modname in FUNCTION_MODULES:
        try:
            module = importlib.import_module(modname)
        except ModuleNotFoundError:
            continue
        for name, obj in vars(module).items():
            if (
                not name.startswith("_")
                and inspect.isfunction(obj)
                and obj.__module__ == modname
            ):
                objs[f"{modname}.{name}"] = obj
    return objs


PUBLIC = _public_objects()
PUBLIC_CLASSES = {k: v for k, v in PUBLIC.items() if inspect.isclass(v)}


@pytest.mark.parametrize("name", sorted(PUBLIC_CLASSES))
def test_public_class_has_doctest_examples(name):
    """Check that a public class's docstring has an Examples section with code."""
    obj = PUBLIC_CLASSES[name]
    doc = inspect.getdoc(obj) or ""
    assert "Examples\n--------" in doc, f"{name} has no Examples section"
    tests = doctest.DocTestFinder(recurse=False).find(obj, name)
    assert any(t.examples for t in tests), f"{name}'s Examples hold no >>> lines"


@pytest.mark.parametrize("name", sorted(PUBLIC))
def test_public_object_is_in_api_reference(name):
    """Check that docs/api.rst lists every public class and function."""
    short = name.rsplit(".", 1)[1]
    listed = {line.strip() for line in API_RST.read_text().splitlines()}
    assert short in listed, f"{name} is missing from {API_RST.relative_to(ROOT)}"


@pytest.mark.parametrize("name", sorted(PUBLIC))
def test_public_object_has_numpydoc_sections(name):
    """Check that public docstrings document their parameters, numpydoc style."""
    obj = PUBLIC[name]
    doc = inspect.getdoc(obj) or ""
    assert doc, f"{name} has no docstring"
    params = [
        p
        for p in inspect.signature(obj).parameters
        if p not in ("self", "args", "kwargs")
    ]
    if params:
        assert "Parameters\n----------" in doc, f"{name} has no Parameters section"


@pytest.mark.skipif(tomllib is None, reason="tomllib needs Python 3.11")
def test_pytest_collects_doctests_of_the_package():
    """Check that the suite's configuration runs the docstrings as doctests."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    options = config["tool"]["pytest"]["ini_options"]
    assert "--doctest-modules" in options["addopts"]
    assert "skae" in options["testpaths"]


def test_ci_runs_the_readme_test_command_verbatim():
    """Check that .ci/run runs the README's test command, byte for byte."""
    readme = (ROOT / "README.md").read_text().splitlines()
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    commands = [line for line in readme if line.startswith("python3.11 -m venv")]
    test_commands = [c for c in commands if c.endswith("python -m pytest")]
    assert len(commands) == 2, "README must give exactly two fresh-machine commands"
    assert len(test_commands) == 1
    assert test_commands[0] in ci


# The papers each estimator's References must cite (issue 6), by author.
REQUIRED_CITATIONS = {
    "DenoisingAE": ["Vincent"],
    "ContractiveAE": ["Rifai"],
    "VAETransformer": ["Kingma", "Burda"],
}
ESTIMATORS = {
    name: obj
    for name, obj in PUBLIC_CLASSES.items()
    if name.count(".") == 1 and hasattr(obj, "fit")
}


def _section(doc, title):
    """Text of a numpydoc section of ``doc`` ('' when absent)."""
    lines = doc.splitlines()
    for i in range(len(lines) - 1):
        if lines[i].strip() == title and set(lines[i + 1].strip()) == {"-"}:
            body = []
            for j in range(i + 2, len(lines)):
                if j + 1 < len(lines) and set(lines[j + 1].strip() or "x") == {"-"}:
                    break
                body.append(lines[j])
            return "\n".join(body)
    return ""


@pytest.mark.parametrize("name", sorted(ESTIMATORS))
def test_estimator_docstring_points_to_sklearn_and_papers(name):
    """Check See Also names a scikit-learn estimator and References the papers."""
    doc = inspect.getdoc(ESTIMATORS[name]) or ""
    for title in ("Parameters", "Attributes", "See Also", "References", "Examples"):
        assert _section(doc, title), f"{name} has no {title} section"
    assert "sklearn." in _section(doc, "See Also"), (
        f"{name}'s See Also names no scikit-learn estimator (PCA, Isomap, "
        "TSNE, IsolationForest, GaussianMixture...)"
    )
    references = _section(doc, "References")
    for author in REQUIRED_CITATIONS.get(name.rsplit(".", 1)[1], []):
        assert author in references, f"{name}'s References do not cite {author}"


# -- the docs need no network (issue 11, point 15) ---------------------------
CONF_PY = ROOT / "docs" / "conf.py"
_MATHJAX_PACKAGE = "sphinx-mathjax-offline"


def _conf_assignments():
    """Module-level ``name = <literal>`` assignments of docs/conf.py.

    Read with ``ast``, not run: conf.py needs the docs extra, which the test
    environment does not install. A value that is not a literal maps to
    ``ast.AST`` (the type), so that a check on it fails clearly.
    """
    import ast

    values = {}
    for node in ast.parse(CONF_PY.read_text()).body:
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        else:
            continue
        for target in targets:
            if isinstance(target, ast.Name):
                try:
                    values[target.id] = ast.literal_eval(value)
                except ValueError:
                    values[target.id] = ast.AST
    return values


def _is_remote(path):
    return "://" in path or path.startswith("//")


def test_docs_render_maths_without_network():
    """Check that docs/conf.py loads no maths renderer from the network.

    Sphinx's default ``mathjax_path`` is a CDN URL, so with
    ``sphinx.ext.mathjax`` conf.py must set a local path (relative to
    _static/), served from the sphinx-mathjax-offline package of the docs
    extra; ``sphinx.ext.imgmath`` renders images at build time and needs no
    script. Any other maths extension is refused until checked here.
    """
    conf = _conf_assignments()
    extensions = conf.get("extensions", [])
    math_ext = [e for e in extensions if "math" in e.lower() or "katex" in e.lower()]
    math_ext = [e for e in math_ext if e != _MATHJAX_PACKAGE]
    assert len(math_ext) == 1, f"expected one maths extension, got {math_ext}"
    if math_ext == ["sphinx.ext.imgmath"]:
        return
    assert math_ext == ["sphinx.ext.mathjax"], (
        f"{math_ext[0]}: only sphinx.ext.mathjax (with a local mathjax_path) "
        "or sphinx.ext.imgmath are known to render offline"
    )
    path = conf.get("mathjax_path")
    assert isinstance(path, str) and path, (
        "conf.py uses sphinx.ext.mathjax without a mathjax_path literal: "
        "Sphinx's default loads MathJax from a CDN"
    )
    assert not _is_remote(path) and not path.startswith("/"), (
        f"mathjax_path={path!r} is not a path inside the built _static/ folder"
    )
    for name in ("mathjax2_config", "mathjax3_config", "mathjax_options"):
        text = repr(conf.get(name, ""))
        assert "//" not in text, f"{name} loads something from the network: {text}"

    # The local copy comes from the docs extra ...
    if tomllib is not None:
        config = tomllib.loads((ROOT / "pyproject.toml").read_text())
        docs = config["project"]["optional-dependencies"]["docs"]
        assert any(d.startswith(_MATHJAX_PACKAGE) for d in docs), (
            f"the docs extra of pyproject.toml does not install {_MATHJAX_PACKAGE}"
        )
    # ... and, where it is installed, holds the file that mathjax_path names.
    spec = importlib.util.find_spec(_MATHJAX_PACKAGE)
    if spec is not None:
        script = Path(spec.origin).parent / "static" / path
        assert script.is_file(), f"{_MATHJAX_PACKAGE} has no static/{path}"
