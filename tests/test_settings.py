"""Settings from the environment and the command line: balances per provider, the AI/ML API
price, and how the banner states them."""

from __future__ import annotations

from unittest import mock

import pytest
from click.testing import CliRunner

from mockserver import create_app
from mockserver.cli import banner, main
from mockserver.settings import Settings


@pytest.mark.parametrize(
    ("raw", "evolink", "aimlapi"),
    [
        ("14", 14, 14),
        ("evolink=14,aimlapi=2240000", 14, 2_240_000),
        ("evolink=7", 7, None),
        ("unlimited", None, None),
    ],
)
def test_credits_from_the_environment_give_a_balance_per_provider(
    raw: str, evolink: float | None, aimlapi: float | None
) -> None:
    engine = create_app(Settings.from_env({"MOCKSERVER_CREDITS": raw})).state.mock.engine
    assert (engine.starting_balance("evolink"), engine.starting_balance("aimlapi")) == (evolink, aimlapi)


def test_the_aimlapi_price_is_a_setting_and_cannot_be_negative() -> None:
    assert Settings.from_env({"MOCKSERVER_AIMLAPI_USD_PER_SECOND": "0.39"}).aimlapi_usd_per_second == 0.39
    with pytest.raises(ValueError, match="aimlapi_usd_per_second"):
        Settings(aimlapi_usd_per_second=-1)
    with pytest.raises(ValueError, match="credits"):
        Settings(credits={"evolink": -1})


def test_the_banner_states_each_providers_balance_in_full() -> None:
    assert "credits per key evolink 14, aimlapi 2240000;" in banner(
        Settings(credits={"evolink": 14, "aimlapi": 2_240_000}), 1
    )
    assert "credits per key 7 at each provider;" in banner(Settings(credits=7), 1)
    assert "credits per key unlimited;" in banner(Settings(), 1)


def test_the_credits_flag_reaches_the_settings_and_a_bad_value_is_a_usage_error() -> None:
    # the command's effects on this process (GC tuning, logging, the server) are stubbed
    with (
        mock.patch("mockserver.cli.server.Server") as serve,
        mock.patch("mockserver.cli.gc"),
        mock.patch("mockserver.cli.logs.configure"),
    ):
        result = CliRunner().invoke(
            main,
            ["--port", "0", "--credits", "evolink=14,aimlapi=2240000", "--aimlapi-usd-per-second", "0.2"],
        )
    assert result.exit_code == 0, result.output
    settings = serve.call_args.args[0].app.state.mock.settings
    assert (
        settings.credits == {"evolink": 14, "aimlapi": 2_240_000} and settings.aimlapi_usd_per_second == 0.2
    )
    refused = CliRunner().invoke(main, ["--credits", "evolink=lots"])
    assert refused.exit_code == 2 and "--credits" in refused.output


def test_the_settings_only_one_provider_reads_are_named_by_its_record_and_shown_with_it() -> None:
    import dataclasses

    from mockserver.providers import PROVIDERS

    for slug, provider in PROVIDERS.items():
        own = {f.name for f in dataclasses.fields(Settings) if f.name.startswith(slug + "_")}
        assert set(provider.settings) == own, slug
        text = banner(Settings(), 1)
        assert all(f"{name}=" in text for name in provider.settings)
