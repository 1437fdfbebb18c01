"""Sphinx configuration for the botters documentation (built offline, warnings are errors)."""

from __future__ import annotations

project = "botters"
author = "botters developers"
copyright = "2026, botters developers"

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.viewcode",
]
autodoc_default_options = {"members": True, "inherited-members": True, "show-inheritance": True}
autodoc_member_order = "bysource"
autodoc_typehints = "description"
napoleon_google_docstring = True
napoleon_numpy_docstring = False
html_theme = "alabaster"
exclude_patterns = ["_build"]
nitpicky = False
