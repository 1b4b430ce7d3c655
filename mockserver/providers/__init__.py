"""The provider registry: one `Provider` record per slug; everything else iterates it.

Provider layer.
"""

from mockserver.providers import aimlapi, evolink
from mockserver.providers.base import Provider

PROVIDERS: dict[str, Provider] = {p.slug: p for p in (aimlapi.PROVIDER, evolink.PROVIDER)}

__all__ = ["PROVIDERS", "Provider"]
