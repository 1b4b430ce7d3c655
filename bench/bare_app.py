"""The reference: a bare Starlette JSON endpoint (the framework's limit on this machine)."""

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

BODY = {"id": "task-unified-1767225600-4gwykf6a", "status": "processing", "progress": 42}


async def task(request: Request) -> JSONResponse:
    return JSONResponse(BODY)


async def create(request: Request) -> JSONResponse:
    """Reads and parses the JSON body, as any create endpoint must."""
    body = await request.json()
    return JSONResponse({**BODY, "prompt": body.get("prompt")})


app = Starlette(
    routes=[Route("/v1/tasks/{task_id}", task), Route("/v1/videos/generations", create, methods=["POST"])]
)
