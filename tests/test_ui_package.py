"""The dashboard's files: the vendored JavaScript is current; an installed gymie serves them all."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from tests.conftest import ROOT, running_server
from tests.http_helpers import http_get

UI = ROOT / "gymie" / "ui"


def load_vendor_script() -> object:
    spec = importlib.util.spec_from_file_location("vendor_ui", ROOT / "scripts" / "vendor_ui.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_vendored_js_client_and_msgpack_are_current() -> None:
    vendor = load_vendor_script()
    assert vendor.differences() == [], "run: python scripts/vendor_ui.py"  # type: ignore[attr-defined]


def test_the_vendored_client_imports_no_bare_module_a_browser_cannot_resolve() -> None:
    for path in (UI / "vendor" / "gymie-client").glob("*.js"):
        text = path.read_text(encoding="utf-8")
        assert 'from "@msgpack/msgpack"' not in text, path
        assert "sourceMappingURL" not in text, path


def test_an_installed_wheel_serves_every_dashboard_file(tmp_path: Path) -> None:
    source = tmp_path / "src"
    source.mkdir()
    for name in ("setup.py", "pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(ROOT / "gymie", source / "gymie", ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(tmp_path),
            str(source),
        ],
        check=True,
        timeout=120,
        env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"},
    )
    site = tmp_path / "site"
    (wheel,) = tmp_path.glob("gymie-*.whl")
    zipfile.ZipFile(wheel).extractall(site)  # a pure-Python wheel installs by unpacking
    wanted = sorted(
        str(p.relative_to(UI)) for p in UI.rglob("*") if p.is_file() and p.suffix not in (".py", ".pyc")
    )
    installed = sorted(
        str(p.relative_to(site / "gymie" / "ui"))
        for p in (site / "gymie" / "ui").rglob("*")
        if p.is_file() and p.suffix != ".py"
    )
    assert installed == wanted
    # Served from the unpacked copy (the working directory comes first on sys.path), not the checkout.
    where = subprocess.run(
        [sys.executable, "-c", "import gymie; print(gymie.__file__)"],
        cwd=site,
        capture_output=True,
        text=True,
    )
    assert where.stdout.strip() == str(site / "gymie" / "__init__.py")
    with running_server("--token", "t", cwd=site) as srv:
        status, _, body = http_get(srv, "/ui?token=t")
        assert status == 200 and body == (UI / "index.html").read_bytes()
        for name in set(wanted) - {"index.html"}:
            status, _, body = http_get(srv, f"/ui/{name}")
            assert status == 200 and body == (UI / name).read_bytes(), name
