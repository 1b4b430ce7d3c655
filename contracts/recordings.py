"""Recordings offline: `contracts drift --recording FILE.har` (the drift report a proxy would have
made of those exchanges, exit 0 no drift, 1 drift, 2 unreadable, `--junit PATH`) and `contracts
profile FILE.har` (the lifecycle timing the recording shows, beside the fake's settings).

Contracts layer: reads the recording, the registry and the `MOCKSERVER_*` settings the fake would
run with (its error style, local callback hosts, queue and run seconds, speed); never starts it.
"""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import click

from mockserver.providers import PROVIDERS
from mockserver.settings import Settings
from mockserver.upstream import har
from mockserver.upstream import profile as profiles
from mockserver.upstream.drift import DRIFT, Analysis, Report
from mockserver.upstream.lifecycle import Profile
from mockserver.upstream.shape import Shape

NO_DRIFT, DRIFTED, UNREADABLE = 0, 1, 2


class RecordingError(Exception):
    """The recording (or the settings to read it with) cannot be used."""


def analysed(path: Path) -> tuple[Analysis, Settings]:
    """Every exchange of the recording through the drift analysis, with the settings it used."""
    try:
        settings = Settings.from_env()
    except ValueError as error:
        raise RecordingError(str(error)) from None
    try:
        exchanges = har.read(path)
        stored = len(har.entries(path))
    except har.HarError as error:
        raise RecordingError(str(error)) from None
    if stored and not exchanges:
        raise RecordingError(
            f"{path}: none of its {stored} entries was recorded by videogen-mock (_provider)"
        )
    shapes = {slug: Shape.of(provider, provider.spec(settings)) for slug, provider in PROVIDERS.items()}
    analysis = Analysis(shapes, Profile.of(settings))
    for exchange in exchanges:
        analysis.add(exchange)
    return analysis, settings


def junit(report: Report, recording: Path) -> bytes:
    """One test per provider operation the recording shows (classname drift.<provider>): failed
    by its drift findings, each kind with its count and first example; `info` findings are in
    its system-out."""
    suite = ET.Element("testsuite", name="drift", file=str(recording))
    failures = 0
    for provider, operation in report.operations:
        case = ET.SubElement(suite, "testcase", classname=f"drift.{provider}", name=operation)
        mine = [g for g in report.groups if (g.provider, g.operation) == (provider, operation)]
        drifted = [g for g in mine if g.kind.severity == DRIFT]
        lines = [f"{g.kind.name} x{g.count}: {g.first.detail}" for g in drifted]
        if drifted:
            failures += 1
            kinds = ", ".join(g.kind.name for g in drifted)
            ET.SubElement(case, "failure", message=f"drift: {kinds}").text = "\n".join(lines)
        infos = [f"{g.kind.name} x{g.count}: {g.first.detail}" for g in mine if g.kind.severity != DRIFT]
        if infos:
            ET.SubElement(case, "system-out").text = "\n".join(infos)
    if not report.operations:
        ET.SubElement(suite, "testcase", classname="drift", name="recording")
    suite.set("tests", str(max(1, len(report.operations))))
    suite.set("failures", str(failures))
    suite.set("errors", "0")
    return bytes(ET.tostring(suite, encoding="utf-8", xml_declaration=True))


def drift_of_recording(recording: Path, junit_path: Path | None) -> int:
    """Print the report of a recording; its exit code."""
    try:
        analysis, _ = analysed(recording)
    except RecordingError as error:
        click.echo(f"contracts drift: {error}", err=True)
        return UNREADABLE
    report = analysis.report()
    click.echo(f"{recording}:")
    click.echo(report.text())
    if junit_path is not None:
        junit_path.write_bytes(junit(report, recording))
    return DRIFTED if report.drift else NO_DRIFT


@click.command("profile", context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("recording", metavar="FILE.har", type=click.Path(dir_okay=False, path_type=Path))
def profile_command(recording: Path) -> None:
    """The lifecycle a recording shows: queue time, run time, progress over the run and the
    failure codes seen, beside the fake's settings (read from MOCKSERVER_*), and the settings
    that would make the fake's default lifecycle match.

    Exit codes: 0 printed; 2 unreadable file."""
    try:
        analysis, settings = analysed(recording)
    except RecordingError as error:
        click.echo(f"contracts profile: {error}", err=True)
        sys.exit(UNREADABLE)
    click.echo(f"{recording}: {analysis.exchanges} exchanges")
    click.echo(profiles.text(profiles.profiles(analysis.trails), settings, analysis.callbacks))
