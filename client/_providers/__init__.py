"""The providers the client speaks, by name, and what each must provide. Everything that
lists providers (the client classes, `videogen --provider`) reads PROVIDERS.

Client layer: provider vocabulary lives in the modules beside this one; no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from client._plans import HttpRequest, ProviderApi
from client._providers.aimlapi import AimlapiApi
from client._providers.evolink import EvolinkApi
from client.types import VideoRequest


class Provider(ProviderApi, Protocol):
    default_base_url: str
    env_key: str
    env_base: str
    accepts_data_uri: bool  # local files and bytes go as `data:` URIs; otherwise URLs only

    def base_url(self, base_url: str) -> str: ...

    def create_request(self, request: VideoRequest) -> HttpRequest: ...


# Keyed by each API's own name, so the key and VideoTask.provider cannot disagree.
PROVIDERS: Mapping[str, Provider] = {api.name: api for api in (AimlapiApi(), EvolinkApi())}
