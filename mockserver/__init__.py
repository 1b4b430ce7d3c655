"""An offline, spec-driven fake of the AI/ML API and EvoLink Kling-O1 video APIs.

`create_app(settings)` builds the ASGI app; `Settings` configures it; `app.state.mock` is the
`Fake` (engine, runtime, provider registry) for assertions from Python.
"""

from mockserver.app import create_app
from mockserver.fake import Fake
from mockserver.settings import Settings

__all__ = ["Fake", "Settings", "create_app"]
