"""The control plane under `/__mock/` (openapi/control.yaml) and the result-file route.

Control layer: handlers over the engine and the runtime; provider words only through the
registry (`Fake.providers`).
"""

CONTROL = "control"  # the control plane's API slug (and its spec's name)
FILES = "files"  # the result files' API slug: journaled beside the providers
