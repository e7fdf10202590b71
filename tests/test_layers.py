"""The import-linter contracts in setup.cfg hold, and they do catch a service importing a view."""

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint(tree: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=tree,
        env={"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )


def _copy(tmp_path: Path) -> Path:
    tree = tmp_path / "tree"
    shutil.copytree(ROOT / "forum", tree / "forum", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "setup.cfg", tree / "setup.cfg")
    return tree


def test_the_layer_contracts_hold(tmp_path):
    result = _lint(_copy(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_a_service_importing_a_view_breaks_the_contracts(tmp_path):
    tree = _copy(tmp_path)
    service = tree / "forum" / "board" / "service" / "__init__.py"
    service.write_text(service.read_text() + "\nfrom .. import views  # noqa: E402,F401\n")
    result = _lint(tree)
    assert result.returncode != 0
    assert "BROKEN" in result.stdout
    assert "forum.board.service -> forum.board.views" in result.stdout


def test_a_feature_reaching_into_another_features_models_breaks_independence(tmp_path):
    tree = _copy(tmp_path)
    common = tree / "forum" / "attribution" / "service" / "common.py"
    common.write_text(
        common.read_text() + "\nfrom ...chat.models import ChatMessage  # noqa: E402,F401\n"
    )
    result = _lint(tree)
    assert result.returncode != 0
    assert (
        "chat: other features use it only through its service and schemas BROKEN" in result.stdout
    )
    assert "forum.attribution.service.common -> forum.chat.models" in result.stdout
    # Only that contract broke: the layers still hold.
    assert "1 broken" in result.stdout


def test_going_around_a_features_front_module_breaks_independence(tmp_path):
    """``shop_embed.service`` is the door; its submodules (stock, orders...) are not."""
    tree = _copy(tmp_path)
    snaps = tree / "forum" / "promotions" / "service" / "snaps.py"
    snaps.write_text(
        snaps.read_text()
        + "\nfrom ...shop_embed.service.stock import holds_intact  # noqa: E402,F401\n"
    )
    result = _lint(tree)
    assert result.returncode != 0
    assert "forum.promotions.service.snaps -> forum.shop_embed.service.stock" in result.stdout


def test_the_shared_kernel_and_the_front_modules_are_allowed(tmp_path):
    """Reading accounts' User and calling another feature's service keep the contracts."""
    tree = _copy(tmp_path)
    common = tree / "forum" / "events" / "service" / "common.py"
    common.write_text(
        common.read_text()
        + "\nfrom ...accounts.models import User as _User  # noqa: E402,F401"
        + "\nfrom ...chat import service as _chat  # noqa: E402,F401\n"
    )
    result = _lint(tree)
    assert result.returncode == 0, result.stdout


MAX_MODULE_LINES = 600


def _module_lines() -> dict[str, int]:
    return {
        path.relative_to(ROOT).as_posix(): len(path.read_text(encoding="utf-8").splitlines())
        for path in (ROOT / "forum").rglob("*.py")
    }


def test_no_module_in_forum_is_over_600_lines():
    lines = _module_lines()
    assert len(lines) > 300  # the walk found the package
    too_long = {path: count for path, count in lines.items() if count > MAX_MODULE_LINES}
    assert too_long == {}, f"split these modules (at most {MAX_MODULE_LINES} lines): {too_long}"
