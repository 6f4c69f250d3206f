"""Copy the browser's JavaScript into the dashboard: the JS client and ``@msgpack/msgpack``'s ESM build.

Usage (from the repository root; ``npm ci`` in ``clients/js`` first)::

    python scripts/vendor_ui.py          # write gymie/ui/vendor/
    python scripts/vendor_ui.py --check  # exit 1 when gymie/ui/vendor/ is not what it would write

``clients/js/dist/*.js`` goes to ``gymie/ui/vendor/gymie-client/`` with its one bare import,
``"@msgpack/msgpack"``, pointed at ``../msgpack/index.mjs`` (a browser resolves no bare names
without an import map, which the page's Content-Security-Policy would have to allow); the
``.mjs`` files of ``@msgpack/msgpack/dist.esm`` go to ``gymie/ui/vendor/msgpack/`` with their
licence and version. Source-map comments are dropped (the maps are not shipped). The check
of the msgpack copy needs ``clients/js/node_modules``; without it only the version is compared
with ``clients/js/package-lock.json``.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
JS = ROOT / "clients" / "js"
MSGPACK = JS / "node_modules" / "@msgpack" / "msgpack"
VENDOR = ROOT / "gymie" / "ui" / "vendor"
_SOURCE_MAP = re.compile(r"^//# sourceMappingURL=.*\n?", re.MULTILINE)


def _js(text: str) -> bytes:
    return _SOURCE_MAP.sub("", text).encode("utf-8")


def client_files() -> dict[str, bytes]:
    """The vendored JS client: relative path below ``vendor/`` -> content."""
    files = {}
    for path in sorted((JS / "dist").glob("*.js")):
        text = path.read_text(encoding="utf-8").replace(
            'from "@msgpack/msgpack"', 'from "../msgpack/index.mjs"'
        )
        files[f"gymie-client/{path.name}"] = _js(text)
    return files


def locked_msgpack_version() -> str:
    """The ``@msgpack/msgpack`` version ``clients/js/package-lock.json`` pins."""
    lock = json.loads((JS / "package-lock.json").read_text(encoding="utf-8"))
    return str(lock["packages"]["node_modules/@msgpack/msgpack"]["version"])


def msgpack_files() -> dict[str, bytes]:
    """The vendored msgpack library (needs ``clients/js/node_modules``)."""
    dist = MSGPACK / "dist.esm"
    files = {
        f"msgpack/{p.relative_to(dist)}": _js(p.read_text(encoding="utf-8"))
        for p in sorted(dist.rglob("*.mjs"))
    }
    files["msgpack/LICENSE"] = (MSGPACK / "LICENSE").read_bytes()
    version = json.loads((MSGPACK / "package.json").read_text(encoding="utf-8"))["version"]
    files["msgpack/VERSION"] = f"{version}\n".encode()
    return files


def wanted() -> dict[str, bytes]:
    """Every vendored file as this script would write it."""
    return {**client_files(), **(msgpack_files() if MSGPACK.exists() else {})}


def differences() -> list[str]:
    """What differs between ``gymie/ui/vendor/`` and what this script would write."""
    expected = wanted()
    present = {str(p.relative_to(VENDOR)): p.read_bytes() for p in VENDOR.rglob("*") if p.is_file()}
    if not MSGPACK.exists():  # compare the client, and the msgpack version with the lock file
        present = {k: v for k, v in present.items() if not k.startswith("msgpack/") or k == "msgpack/VERSION"}
        expected["msgpack/VERSION"] = f"{locked_msgpack_version()}\n".encode()
    names = sorted(set(expected) | set(present))
    return [name for name in names if expected.get(name) != present.get(name)]


def write() -> None:
    """Replace ``gymie/ui/vendor/`` with a fresh copy."""
    if not MSGPACK.exists():
        sys.exit("clients/js/node_modules is missing: run `npm ci` in clients/js first")
    for path in sorted(VENDOR.rglob("*"), reverse=True):
        path.unlink() if path.is_file() else path.rmdir()
    for name, content in wanted().items():
        target = VENDOR / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)


def main() -> None:
    """Write or check gymie/ui/vendor/."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only compare; exit 1 on any difference")
    if parser.parse_args().check:
        stale = differences()
        if stale:
            sys.exit("gymie/ui/vendor/ is stale (run python scripts/vendor_ui.py): " + ", ".join(stale))
        print("gymie/ui/vendor/ is up to date")
    else:
        write()
        print(f"wrote {len(wanted())} files to {VENDOR.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
