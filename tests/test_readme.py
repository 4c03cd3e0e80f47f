"""README.md's Python blocks run as written, in order, in one namespace: the example shop makes a done receipt."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


def python_blocks(path: Path) -> list[str]:
    return BLOCK.findall(path.read_text(encoding="utf-8"))


@pytest.fixture
def readme(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> tuple[dict, str]:
    """The README's namespace after running every block (in a scratch directory), and what it printed."""
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "readme_example"}
    blocks = python_blocks(ROOT / "README.md")
    assert len(blocks) >= 3
    for number, code in enumerate(blocks, 1):
        exec(compile(code, f"README.md block {number}", "exec"), namespace)
    apps = [value for value in namespace.values() if type(value).__name__ == "Flask"]
    yield namespace, capsys.readouterr().out
    for app in apps:
        app.extensions["komtet_kassa"].dispatcher.stop()


def test_the_example_shop_makes_a_done_receipt(readme) -> None:
    namespace, printed = readme
    assert "sale-1-1 done 1300.00" in printed  # 2 × 650,00 ₽: rubles, not kopecks


def test_create_app_is_a_real_factory(readme) -> None:
    namespace, _ = readme
    first, second = namespace["create_app"](), namespace["create_app"]()  # an Admin per app: no clash
    for app in (first, second):
        with app.app_context():
            namespace["db"].create_all()
        client = app.test_client()
        assert client.get("/admin/komtet_registers/").status_code == 403  # closed to an anonymous visitor
        with client.session_transaction() as session:
            session["staff"] = True
        assert client.get("/admin/komtet_registers/").status_code == 200
        app.extensions["komtet_kassa"].dispatcher.stop()


@pytest.mark.parametrize("doc", ["docs/getting-started.md", "docs/recipes.md"])
def test_the_guides_python_blocks_compile(doc: str) -> None:
    for number, code in enumerate(python_blocks(ROOT / doc), 1):
        compile(code, f"{doc} block {number}", "exec")
