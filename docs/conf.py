"""Sphinx configuration of reco's documentation site.

Build: ``python3 -m pip install -e ".[docs]" && sphinx-build -W --keep-going -b html docs
docs/_build/html`` (warnings are errors; ``.ci/run`` builds it so). The notebooks of
``notebooks/`` are executed during the build (myst-nb), reading real data from
``RECO_DATA_DIR``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import reco

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
os.environ.setdefault("RECO_DATA_DIR", str(ROOT.parent / "shared" / "data"))
os.environ.setdefault("MPLBACKEND", "Agg")

project = "reco"
author = "reco developers"
copyright = "2026, reco developers"
version = release = reco.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.intersphinx",
    "numpydoc",
    "myst_nb",
]

source_suffix = {".rst": "restructuredtext", ".md": "myst-nb", ".ipynb": "myst-nb"}
exclude_patterns = ["_build", "notebooks/.ipynb_checkpoints", "**/.ipynb_checkpoints"]
templates_path = ["_templates"]

# the API reference: one page per public name, listed by the subpackage pages
autosummary_generate = True
autodoc_default_options = {"members": True, "inherited-members": False}
autodoc_typehints = "none"  # the numpydoc sections carry the types
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist"]
myst_heading_anchors = 3
nb_execution_mode = "force"
nb_execution_timeout = 600
nb_execution_raise_on_error = True
nb_execution_show_tb = True

intersphinx_mapping = {}  # the site builds offline: no inventories fetched

html_theme = "pydata_sphinx_theme"
html_title = f"reco {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc"],
}
html_show_sourcelink = False
# MathJax from a local copy when there is one (.ci/run unpacks npm's mathjax into
# docs/_static/mathjax, so the site renders formulas offline), else from a CDN
_LOCAL_MATHJAX = Path(__file__).parent / "_static" / "mathjax" / "tex-mml-chtml.js"
if _LOCAL_MATHJAX.is_file():
    html_static_path = ["_static"]
    mathjax_path = "mathjax/tex-mml-chtml.js"
else:
    html_static_path = []
    mathjax_path = "https://cdn.jsdelivr.net/npm/mathjax@3.2.2/es5/tex-mml-chtml.js"
