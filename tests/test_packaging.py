"""Packaging metadata a new user meets: what `pip install` brings, what `scripts/demo` installs, the license."""

from __future__ import annotations

import ast
import configparser
import re
import sys
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _setup_cfg() -> configparser.ConfigParser:
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg", encoding="utf-8")
    return config


def _names(requirements: str) -> set[str]:
    return {re.split(r"[<>=\[; ]", line.strip())[0].lower() for line in requirements.splitlines() if line.strip()}


def _third_party_imports(folder: Path) -> set[str]:
    found = set()
    for path in folder.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                found.add(node.module.split(".")[0])
    return {name for name in found if name not in sys.stdlib_module_names and name not in ("flask_komtet", "example_shop")}


def test_the_demo_needs_only_the_package_and_its_demo_extra() -> None:
    config = _setup_cfg()
    available = _names(config["options"]["install_requires"]) | _names(config["options.extras_require"]["demo"])
    distributions = packages_distributions()
    needed = {dist.lower() for module in _third_party_imports(ROOT / "example_shop")
              for dist in distributions.get(module, [module])}
    # what the package's own requirements bring with them (Flask brings Werkzeug, click, Jinja2, MarkupSafe…)
    transitive = {"werkzeug", "click", "jinja2", "markupsafe", "sqlalchemy", "wtforms", "babel"}
    assert needed - transitive <= available, needed - transitive - available
    demo = (ROOT / "scripts" / "demo").read_text()
    assert re.search(r"^EXTRAS=demo\b", demo, re.M)  # not the test packages


def test_license_is_an_spdx_expression_with_its_file_and_flask_babel_is_required() -> None:
    metadata = _setup_cfg()["metadata"]
    assert metadata["license_expression"] == "MIT" and "license" not in metadata
    assert (ROOT / metadata["license_files"].strip()).read_text().startswith("MIT License")
    assert "flask-babel" in _names(_setup_cfg()["options"]["install_requires"])
    assert 'requires = ["setuptools>=77"' in (ROOT / "pyproject.toml").read_text()  # license_expression support
