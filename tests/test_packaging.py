"""The extras of setup.cfg: ``test`` is what running the tests needs, ``dev`` adds the
linter and the type checker, ``docs`` is what building the documentation needs."""

from __future__ import annotations

import configparser
import os
import subprocess
import sys
import textwrap
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

import txarakoon

ROOT = Path(txarakoon.__file__).resolve().parent.parent

LINTERS_AND_TYPE_CHECKERS = {"ruff", "mypy", "mypy-zope"}


def _requirements(section: str, key: str) -> list[Requirement]:
    parser = configparser.ConfigParser()
    parser.read(ROOT / "setup.cfg")
    return [Requirement(line) for line in parser[section][key].strip().splitlines()]


def _extra(name: str) -> list[Requirement]:
    return _requirements("options.extras_require", name)


def _names(requirements: list[Requirement]) -> set[str]:
    return {canonicalize_name(requirement.name) for requirement in requirements}


def test_the_test_extra_holds_no_linter_type_checker_or_docs_tool() -> None:
    assert not _names(_extra("test")) & (LINTERS_AND_TYPE_CHECKERS | {"sphinx", "furo"})


def test_the_dev_extra_is_the_test_extra_plus_the_linter_and_the_type_checker() -> None:
    dev = _extra("dev")
    assert _names(dev) - {"txarakoon"} == LINTERS_AND_TYPE_CHECKERS
    (itself,) = [requirement for requirement in dev if requirement.name == "txarakoon"]
    assert itself.extras == {"test"}


def _dists_of(requirements: list[Requirement]) -> set[str]:
    """The distributions ``requirements`` name, with the ones their extras add."""
    names = set()
    for requirement in requirements:
        names.add(canonicalize_name(requirement.name))
        for extra in requirement.extras:
            for line in metadata.requires(requirement.name) or []:
                added = Requirement(line)
                if added.marker is not None and added.marker.evaluate({"extra": extra}):
                    names.add(canonicalize_name(added.name))
    return names


def test_the_documented_modules_import_without_what_only_the_tests_need() -> None:
    """What autodoc imports, in an interpreter where every distribution of the
    test and dev extras that the docs extra does not bring is missing (as in a
    virtualenv holding only ``.[docs]``), with conf.py's ``autodoc_mock_imports``
    standing in as Sphinx does it."""
    docs_env = _dists_of(_requirements("options", "install_requires") + _extra("docs"))
    tools = _dists_of(_extra("test") + _extra("dev")) - docs_env - {"txarakoon"}
    missing = sorted(
        module
        for module, dists in metadata.packages_distributions().items()
        if {canonicalize_name(dist) for dist in dists} & tools
    )
    assert "pytest" in missing  # the check sees the tools it hides
    check = textwrap.dedent(
        f"""
        import importlib, re, runpy, sys
        from importlib.abc import MetaPathFinder
        from unittest import mock

        MISSING = {missing!r}

        class Missing(MetaPathFinder):
            def find_spec(self, name, path=None, target=None):
                if name.partition(".")[0] in MISSING:
                    raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
                return None

        sys.meta_path.insert(0, Missing())
        conf = runpy.run_path("docs/conf.py")
        for name in conf.get("autodoc_mock_imports", []):
            sys.modules[name] = mock.MagicMock()
        for page in sorted(__import__("pathlib").Path("docs").rglob("*.rst")):
            for module in re.findall(r"^\\.\\. automodule:: (\\S+)", page.read_text(), re.M):
                importlib.import_module(module)
        """
    )
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    done = subprocess.run(
        [sys.executable, "-c", check], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
