"""Sphinx configuration for the txarakoon documentation.

Build with ``sphinx-build -W -b html docs docs/_build/html`` from the repository root.
No extension here needs the network (intersphinx is deliberately not used).
"""

import sys
from pathlib import Path

# Let autodoc import the package from this checkout.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

project = "txarakoon"
author = "the txarakoon authors"
copyright = "2026, the txarakoon authors"

try:
    from txarakoon import __version__ as release
except ImportError:  # the package is not importable; autodoc will report why
    release = "unknown"
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.doctest",
    "sphinx.ext.napoleon",
    "sphinx.ext.viewcode",
]

root_doc = "index"
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]

nitpicky = False

# Undocumented members stay out of the reference. Do not write "undoc-members": False
# here: Sphinx 9 treats any value, even False, as "option given" and documents them all.
autodoc_default_options = {
    "members": True,
    "show-inheritance": True,
}
autodoc_typehints = "description"
# The pytest plugin's module imports pytest to declare its fixtures. Building the
# documentation must not need the test tools (the docs extra does not install them), so
# autodoc imports it against a stand-in; what it documents (the module text, Resolver)
# does not touch pytest.
autodoc_mock_imports = ["pytest"]
autodoc_member_order = "bysource"


def _skip_flavoured_copies(app, what, name, obj, skip, options):
    """Document each command once, on its mixin, with the signatures of both
    flavours: every client class holds a copy of one flavour in its own
    ``__dict__`` (see txarakoon.facade), which autodoc would list again there."""
    from txarakoon.facade import flavour_of

    return True if flavour_of(obj) is not None else None


def setup(app):
    app.connect("autodoc-skip-member", _skip_flavoured_copies)


napoleon_google_docstring = True
napoleon_numpy_docstring = False

html_theme = "furo"
html_title = "txarakoon"
