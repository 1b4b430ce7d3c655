"""The control plane under `/__mock/` (openapi/control.yaml) and the result-file route.

Control layer: handlers over the engine and the runtime; provider words only through the
registry (`Fake.providers`). It sits above the web layer and the fake it controls.
"""

from __future__ import annotations

from mockserver.fake import Fake
from mockserver.web.pipeline import Call

CONTROL = "control"  # the control plane's API slug (and its spec's name)
FILES = "files"  # the result files' API slug: journaled beside the providers


def fake_of(call: Call) -> Fake:
    """The fake a control request acts on. The pipeline knows it only as its narrow `Host`; the
    control plane reaches its registry, runtime and callbacks too."""
    fake = call.fake
    if not isinstance(fake, Fake):
        raise TypeError(f"the control plane needs the app's Fake, not {type(fake).__name__}")
    return fake
