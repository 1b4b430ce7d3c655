"""What importing costs a user: `import client` brings httpx (and what httpx itself needs) and
the standard library only; the pytest plugin, which pytest loads into every run of every project
in the environment, adds nothing but itself until one of its fixtures is used."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib.metadata import packages_distributions, requires
from pathlib import Path

from packaging.requirements import Requirement

SEEN = "import sys, json; print(json.dumps(sorted(sys.modules)))"


def modules_after(statement: str, cwd: Path) -> set[str]:
    done = subprocess.run(
        [sys.executable, "-c", f"{statement}\n{SEEN}"], cwd=cwd, capture_output=True, text=True, check=True
    )
    return set(json.loads(done.stdout))


def import_names(distribution: str) -> set[str]:
    """The top-level import names of a distribution and of everything it requires (no extras)."""
    owners = packages_distributions()
    wanted, seen = [distribution], set()
    while wanted:
        name = wanted.pop().lower().replace("_", "-")
        if name in seen:
            continue
        seen.add(name)
        for line in requires(name) or []:
            requirement = Requirement(line)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                wanted.append(requirement.name)
    return {
        module for module, dists in owners.items() if any(d.lower().replace("_", "-") in seen for d in dists)
    }


def top_level(modules: set[str]) -> set[str]:
    return {name.partition(".")[0] for name in modules}


def test_import_client_loads_httpx_and_the_standard_library_only(tmp_path: Path) -> None:
    before = modules_after("import httpx", tmp_path)
    after = modules_after("import client", tmp_path)
    added = top_level(after - before) - set(sys.stdlib_module_names) - {"client"}
    assert added <= import_names("httpx"), added  # anyio, sniffio, ...: what httpx requires


def test_the_pytest_plugin_adds_nothing_but_itself_until_a_fixture_is_used(tmp_path: Path) -> None:
    (tmp_path / "test_nothing.py").write_text("def test_nothing():\n    pass\n")
    (tmp_path / "conftest.py").write_text(
        "import json, sys\n\n\ndef pytest_sessionfinish(session):\n"
        "    (session.config.rootpath / 'modules.json').write_text(json.dumps(sorted(sys.modules)))\n"
    )
    env = {**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}  # only the plugins named here

    def loaded(*plugins: str) -> set[str]:
        command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *plugins]
        subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, check=True)
        return set(json.loads((tmp_path / "modules.json").read_text()))

    without, with_plugin = loaded(), loaded("-p", "pytest_videogen_mock")
    assert with_plugin - without == {"pytest_videogen_mock"}
