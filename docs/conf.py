"""Sphinx configuration of the skae documentation.

Build with ``sphinx-build -W -b html docs docs/_build/html``. Set
``SKAE_DOCS_NO_GALLERY=1`` to render the gallery pages without running the
examples (what CI does, to stay fast; tests/test_examples.py runs each of
them, shrunk from outside).

The docs need no network, to build or to read: no intersphinx, and the
maths is rendered by a local copy of MathJax (see ``mathjax_path``).
"""

import importlib.util
import os
import re
import sys
from pathlib import Path

# Document the source tree next to this folder, not an installed copy.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
# ... and this folder, for _gallery_order.
sys.path.insert(0, str(Path(__file__).resolve().parent))

import skae  # noqa: E402

project = "skae"
author = "the skae developers"
copyright = "2026, the skae developers"
release = skae.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "auto_examples/*.ipynb", "auto_examples/*.py"]
root_doc = "index"

# No intersphinx: the docs build without network access. References to
# scikit-learn, torch and skorch objects are written as plain literals.

# -- maths -------------------------------------------------------------------
# MathJax is served with the pages, not from a CDN, so that an offline reader
# sees rendered maths rather than raw LaTeX. The sphinx-mathjax-offline
# package (in the docs extra) ships MathJax 3; its whole folder (the fonts,
# and the TeX extensions that MathJax loads on demand, next to the script)
# is copied into _static/mathjax/, and mathjax_path, relative to _static/,
# points at its script. The folder is added as a static path here rather
# than through the package's Sphinx extension, which does not declare
# itself safe for parallel builds (a warning, so an error under -W with -j).
_MATHJAX_PACKAGE = importlib.util.find_spec("sphinx-mathjax-offline")
if _MATHJAX_PACKAGE is None:
    raise ImportError(
        "The skae docs render their maths with a local MathJax from the "
        "sphinx-mathjax-offline package: pip install '.[docs]'."
    )
_MATHJAX_STATIC = Path(_MATHJAX_PACKAGE.origin).parent / "static"
mathjax_path = "mathjax/tex-chtml.js"
html_static_path = [str(_MATHJAX_STATIC)]  # holds mathjax/

# -- autodoc / autosummary ---------------------------------------------------
autosummary_generate = True
autodoc_default_options = {"member-order": "bysource"}
autodoc_typehints = "none"

# -- numpydoc ----------------------------------------------------------------
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
# Validate the docstrings that the API reference renders; with ``-W`` a
# violation fails the build. GL08: object without docstring; PR01/PR02:
# parameters missing from or unknown to the docstring; PR06/PR07: bad or
# missing parameter types; RT02/RT03: unnamed or undescribed returns;
# SA04: See Also entry without description. (That every public class and
# function has an Examples section is checked by tests/test_docs.py.)
numpydoc_validation_checks = {"GL08", "PR01", "PR02", "PR06", "PR07", "SA04"}
numpydoc_validation_exclude = {
    # Inherited from scikit-learn / torch; their docstrings are theirs.
    r"\.get_params$",
    r"\.set_params$",
    r"\.set_output$",
    r"\.fit_transform$",
    r"\.get_metadata_routing$",
    r"\.get_feature_names_out$",
    r"\.fit_predict$",
    r"\.forward$",
    r"\.__init__$",
}


_XREF = re.compile(r":(?:ref|term|doc):`([^`<]*?)\s*(?:<[^`>]*>)?`")


_TRAILING_UNDERSCORE = re.compile(r"(?<![`\w])([A-Za-z]\w*_)(?=[,)])")


def _literal_fitted_names(app, what, name, obj, options, lines):
    """Render fitted-attribute names in shape specs as literals.

    numpydoc copies a type such as ``ndarray of shape (n_features_in_,)``
    into reST as it is, where ``n_features_in_,`` reads as a reference to a
    target ``n_features_in`` (an error). scikit-learn writes
    ```n_features_in_``` by hand; this does it for every skae docstring,
    outside existing ````literal```` spans.
    """
    module = getattr(obj, "__module__", "") or ""
    if not module.startswith("skae"):
        return
    for i, line in enumerate(lines):
        parts = line.split("``")
        # Even-numbered parts are outside ``...`` literals.
        parts[::2] = [_TRAILING_UNDERSCORE.sub(r"``\1``", p) for p in parts[::2]]
        lines[i] = "``".join(parts)


def _unlink_foreign_docstring(app, what, name, obj, options, lines):
    """Turn scikit-learn's cross-references into plain text.

    Methods that the estimators inherit from scikit-learn (``set_output``,
    ``get_metadata_routing``) link to labels of scikit-learn's own
    documentation, which do not exist here; without intersphinx they would
    be broken links (and warnings, so errors under ``-W``).
    """
    module = getattr(obj, "__module__", "") or ""
    if not module.startswith("sklearn"):
        return
    lines[:] = [_XREF.sub(lambda m: m.group(1) or "", line) for line in lines]


def setup(app):
    app.connect("autodoc-process-docstring", _unlink_foreign_docstring)
    app.connect("autodoc-process-docstring", _literal_fitted_names)


# -- sphinx-gallery ----------------------------------------------------------
run_gallery = os.environ.get("SKAE_DOCS_NO_GALLERY") != "1"
sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "plot_gallery": run_gallery,
    "doc_module": ("skae",),
    "backreferences_dir": "generated/backreferences",
    "reference_url": {"skae": None},
    "remove_config_comments": True,
    "abort_on_example_error": True,
    "within_subsection_order": "_gallery_order.example_order",
    # Show rich (HTML) reprs of a cell's last value, such as DataFrames, but
    # not "<Figure size 640x690 with 64 Axes>" lines between the prose.
    "capture_repr": ("_repr_html_",),
    # Its pages load jQuery and DataTables from a CDN: the docs read offline.
    "write_computation_times": False,
}

# -- HTML --------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"skae {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc"],
}
html_show_sourcelink = False
