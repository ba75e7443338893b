"""Every module of the package imports on its own, first, in a fresh interpreter (no import cycles that only
work in one order)."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import copilot


def test_each_module_imports_first_in_a_fresh_interpreter():
    names = sorted(m.name for m in pkgutil.walk_packages(copilot.__path__, "copilot.") if not m.name.endswith("__main__"))
    code = "import importlib, sys\nfor n in sys.argv[1:]:\n    importlib.import_module(n)\n"
    failed = []
    for name in names:  # one interpreter per module: each must be importable as the first import
        r = subprocess.run([sys.executable, "-c", code, name], capture_output=True, text=True, timeout=120)
        if r.returncode != 0:
            failed.append(f"{name}: {r.stderr.strip().splitlines()[-1]}")
    assert not failed, "\n".join(failed)
