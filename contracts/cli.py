"""`contracts check`: run the contract suite against any deployment (the fake on a port, or
the real provider) and exit 0 only when it conforms.

Contracts layer. The suite is `contracts/suite.py`, run by pytest in a child process with its
target set through `CONTRACTS_*` variables; pytest writes the JUnit report.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import click

from contracts.drift import drift_command
from mockserver.providers import PROVIDERS


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Contract checks for the AI/ML API and EvoLink video APIs."""


main.add_command(drift_command)


@main.command()
@click.option(
    "--provider",
    "providers",
    type=click.Choice(list(PROVIDERS)),
    multiple=True,
    help="Provider(s) to check [default: both].",
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
    help="A second key (or any other string): its requests must not see the first key's tasks.",
)
@click.option(
    "--max-examples",
    default=25,
    show_default=True,
    type=click.IntRange(1),
    help="Examples per operation and mode (each may create a billed task on a real provider).",
)
@click.option("--stateful-examples", default=10, show_default=True, type=click.IntRange(1))
@click.option("--no-negative", is_flag=True, help="Skip the negative (invalid input) runs.")
@click.option("--no-stateful", is_flag=True, help="Skip the stateful runs (create -> retrieve chains).")
@click.option(
    "--deterministic/--random", default=True, show_default=True, help="The same examples on every run."
)
@click.option(
    "--junit", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Write a JUnit XML report."
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
    """Run the positive, negative and stateful contract checks against BASE_URL."""
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
            "-q",
            "-rfE",
            "--pyargs",
            "contracts.suite",
        ]
        if junit is not None:
            arguments += ["--junitxml", str(junit.resolve())]
        # A fresh interpreter, so pytest imports (and assert-rewrites) the suite itself.
        code = subprocess.call([sys.executable, "-m", "pytest", *arguments], env=env)
    sys.exit(0 if code == 0 else 1)
