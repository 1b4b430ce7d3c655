"""`contracts check`: run the contract suite against any deployment (the fake on a port, or
the real provider) and exit 0 only when it conforms.

Contracts layer. The suite is `contracts/suite.py`, run by pytest in a child process with its
target set through `CONTRACTS_*` variables; `contracts/report.py` shows its results and names
them in the JUnit report.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import click
import httpx

from contracts.drift import drift_command
from contracts.recordings import profile_command
from mockserver.providers import PROVIDERS

CONFORMS, DOES_NOT_CONFORM, CANNOT_CHECK = 0, 1, 2
NEEDS = ("pytest", "schemathesis", "hypothesis")  # the contracts extra
PROBE_TIMEOUT = 10.0
CHECK_EPILOG = """\b
Exit codes: 0 conforms; 1 does not conform (each failing operation is named);
2 could not check (BASE_URL does not answer, the contracts extra is missing, a usage error).
\b
Example: contracts check --base-url http://127.0.0.1:8000 --key mock-key --junit junit.xml"""


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="videogen-mock", prog_name="contracts")
def main() -> None:
    """Contract checks for the AI/ML API and EvoLink video APIs.

    `check` runs the specs' contract against a deployment (the fake, or a real provider);
    `drift` compares a provider's published OpenAPI file, or a recording of what it really
    answered (`--recording FILE.har`), with this project's spec; `profile` shows the lifecycle
    timing a recording shows beside the fake's settings."""


main.add_command(drift_command)
main.add_command(profile_command)


def _missing_extra() -> str | None:
    missing = [name for name in NEEDS if importlib.util.find_spec(name) is None]
    if not missing:
        return None
    return f"contracts check needs {', '.join(missing)}: pip install 'videogen-mock[contracts]'"


def _unanswered(base_url: str) -> str | None:
    """Why BASE_URL cannot be checked (no answer at all), or None: any HTTP answer will do."""
    try:
        httpx.get(base_url, timeout=PROBE_TIMEOUT)
    except httpx.TransportError as error:
        reason = str(error) or type(error).__name__
        return f"{base_url} does not answer ({reason})"
    except httpx.InvalidURL as error:
        return f"{base_url!r} is not a URL ({error})"
    return None


@main.command(context_settings={"help_option_names": ["-h", "--help"]}, epilog=CHECK_EPILOG)
@click.option(
    "--provider",
    "providers",
    type=click.Choice(list(PROVIDERS)),
    multiple=True,
    help="Provider(s) to check, repeatable [default: all].",
)
@click.option(
    "--base-url", required=True, help="The deployment, e.g. http://127.0.0.1:8000 or https://api.evolink.ai."
)
@click.option("--key", envvar="CONTRACTS_KEY", required=True, help="API key [env CONTRACTS_KEY].")
@click.option(
    "--other-key",
    envvar="CONTRACTS_OTHER_KEY",
    default="contracts-other-key",
    show_default=True,
    help="A second key (or any other string): its requests must not see the first key's tasks "
    "[env CONTRACTS_OTHER_KEY].",
)
@click.option(
    "--max-examples",
    default=25,
    show_default=True,
    type=click.IntRange(1),
    envvar="CONTRACTS_MAX_EXAMPLES",
    help="Examples per operation and mode (each may create a billed task on a real provider) "
    "[env CONTRACTS_MAX_EXAMPLES].",
)
@click.option(
    "--stateful-examples",
    default=10,
    show_default=True,
    type=click.IntRange(1),
    envvar="CONTRACTS_STATEFUL_EXAMPLES",
    help="Create -> retrieve sequences per provider, following the specs' links "
    "[env CONTRACTS_STATEFUL_EXAMPLES].",
)
@click.option("--no-negative", is_flag=True, help="Skip the negative (invalid input) runs.")
@click.option("--no-stateful", is_flag=True, help="Skip the stateful runs (create -> retrieve chains).")
@click.option(
    "--deterministic/--random",
    default=True,
    show_default=True,
    help="The same examples on every run, or new ones each time.",
)
@click.option(
    "--junit",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write a JUnit XML report: one test per operation, classname contracts.<provider>.",
)
def check(
    providers: tuple[str, ...],
    base_url: str,
    key: str,
    other_key: str,
    max_examples: int,
    stateful_examples: int,
    no_negative: bool,
    no_stateful: bool,
    deterministic: bool,
    junit: Path | None,
) -> None:
    """Run the positive, negative and stateful contract checks against BASE_URL.

    Each operation of each provider's spec is called with valid and invalid data (schemathesis,
    every default check plus the providers' own rules: error envelopes, statuses that only move
    forward, a result exactly when completed); then create -> retrieve sequences check that a
    task is readable by its key and not by another. Against the fake, its clock is moved."""
    problem = _missing_extra() or _unanswered(base_url)
    if problem is not None:
        click.echo(f"contracts check: {problem}", err=True)
        sys.exit(CANNOT_CHECK)
    env = dict(os.environ)
    env.update(
        {
            "CONTRACTS_PROVIDERS": ",".join(providers or PROVIDERS),
            "CONTRACTS_BASE_URL": base_url,
            "CONTRACTS_KEY": key,
            "CONTRACTS_OTHER_KEY": other_key,
            "CONTRACTS_MAX_EXAMPLES": str(max_examples),
            "CONTRACTS_STATEFUL_EXAMPLES": str(stateful_examples),
            "CONTRACTS_NEGATIVE": "0" if no_negative else "1",
            "CONTRACTS_STATEFUL": "0" if no_stateful else "1",
            "CONTRACTS_DETERMINISTIC": "1" if deterministic else "0",
        }
    )
    with tempfile.TemporaryDirectory() as root:
        # An empty config and rootdir: the caller's own pytest settings do not apply.
        arguments = [
            "-c",
            os.devnull,
            "--rootdir",
            root,
            "-p",
            "no:cacheprovider",
            "-p",
            "contracts.report",
            "-qq",
            "-rN",  # no short summary of node ids: the report names what failed
            "--tb=short",
            "-o",
            "console_output_style=classic",
            "-o",
            "junit_suite_name=contracts",
            "--pyargs",
            "contracts.suite",
        ]
        if junit is not None:
            arguments += ["--junitxml", str(junit.resolve())]
        click.echo(f"contracts check: {base_url} ({', '.join(providers or PROVIDERS)})")
        # A fresh interpreter, so pytest imports (and assert-rewrites) the suite itself; `-P` and
        # a temporary working folder, so a project's own `contracts` or `mockserver` package in
        # the caller's folder cannot take the place of this one.
        command = [sys.executable, "-P", "-m", "pytest", *arguments]
        code = subprocess.call(command, env=env, cwd=root)
    sys.exit({0: CONFORMS, 1: DOES_NOT_CONFORM}.get(code, CANNOT_CHECK))
