"""The route table, compiled from the specs: a dict for static paths, one pattern per templated
path, a method table for each; and which API owns a path that matches no route (its 404 and
405 answer in that API's envelope).

Web layer.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from mockserver.spec import Operation
from mockserver.web.pipeline import Api, Endpoint

_TEMPLATE = re.compile(r"\{(\w+)\}")


def snake(operation_id: str) -> str:
    """Handler names are the spec's operationId in snake_case."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", operation_id).lower()


def _pattern(op: Operation) -> re.Pattern[str]:
    """`/v1/tasks/{task_id}` as a regex; a parameter marked `x-path-convertor: path` takes `/`."""
    greedy = {p.name for p in op.params if p.location == "path" and p.convertor == "path"}
    parts, last = [], 0
    for match in _TEMPLATE.finditer(op.path):
        parts.append(re.escape(op.path[last : match.start()]))
        name = match.group(1)
        parts.append(f"(?P<{name}>{'.+' if name in greedy else '[^/]+'})")
        last = match.end()
    parts.append(re.escape(op.path[last:]))
    return re.compile("".join(parts) + "$")


@dataclass
class Match:
    endpoint: Endpoint | None  # None: no route for this method and path
    params: dict[str, str] = field(default_factory=dict)
    owner: Api | None = None  # whose envelope a miss answers in
    allowed: tuple[str, ...] = ()  # methods served at this path (a 405 lists them)


class Router:
    def __init__(
        self, apis: Sequence[Api], make: Callable[[Api, Operation], Endpoint], fallback: Api
    ) -> None:
        self.fallback = fallback
        self._static: dict[str, dict[str, Endpoint]] = {}
        self._templated: list[tuple[str, re.Pattern[str], dict[str, Endpoint]]] = []
        self._owners: list[tuple[str, Api]] = []
        by_pattern: dict[str, dict[str, Endpoint]] = {}
        for api in apis:
            for mount in api.mounts:
                self._owners += [(namespace, api) for namespace in _namespaces(api, mount)]
                for op in api.served():
                    endpoint = make(api, op)
                    path = mount + op.path
                    if "{" not in path:
                        self._static.setdefault(path, {})[op.method] = endpoint
                        continue
                    full = f"^{re.escape(mount)}{_pattern(op).pattern}"
                    methods = by_pattern.get(full)
                    if methods is None:
                        methods = by_pattern[full] = {}
                        self._templated.append((path, re.compile(full), methods))
                    methods[op.method] = endpoint
        self._owners.sort(key=lambda owner: -len(owner[0]))

    def match(self, method: str, path: str) -> Match:
        lookup = "GET" if method == "HEAD" else method  # HEAD is served by GET, as Starlette does
        methods = self._static.get(path)
        if methods is not None:
            endpoint = methods.get(lookup)
            if endpoint is not None:
                return Match(endpoint)
            allowed = set(methods)
        else:
            allowed = set()
        for _, pattern, candidates in self._templated:
            found = pattern.match(path)
            if found is not None:
                endpoint = candidates.get(lookup)
                if endpoint is not None:
                    return Match(endpoint, found.groupdict())
                allowed |= set(candidates)
        if "GET" in allowed:
            allowed.add("HEAD")
        return Match(None, owner=self.owner(path), allowed=tuple(sorted(allowed)))

    def owner(self, path: str) -> Api:
        for namespace, api in self._owners:
            if path.startswith(namespace):
                return api
        return self.fallback


def _namespaces(api: Api, mount: str) -> set[str]:
    """Where a path that matches none of the API's routes still belongs to it: the mount, or
    (unmounted) the first segment of each of its paths, such as `/v1/`."""
    if mount:
        return {mount + "/"}
    return {"/" + op.path.strip("/").split("/")[0] + "/" for op in api.served()}
