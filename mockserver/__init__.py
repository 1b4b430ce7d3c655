"""An offline, spec-driven fake of the AI/ML API and EvoLink Kling-O1 video APIs.

`create_app(settings)` builds the Starlette app; `Settings` configures it.
"""

from mockserver.app import create_app
from mockserver.settings import Settings
from mockserver.state import MockState

__all__ = ["MockState", "Settings", "create_app"]
