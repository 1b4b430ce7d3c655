"""The route table, compiled from the specs: a dict for static paths, one pattern per templated
path, a method table for each; and which API owns a path that matches no route (its 404 and
405 answer in that API's envelope). Each API's own routing rules (case-insensitive paths, a
trailing slash served or redirected) are tried only on a miss, so the hot path is one lookup.

Web layer.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from mockserver.spec import Operation
from mockserver.web.api import Api, TrailingSlash
from mockserver.web.pipeline import Endpoint

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


@dataclass(slots=True)
class Match:
    endpoint: Endpoint | None  # None: no route for this method and path
    params: dict[str, str] = field(default_factory=dict)
    owner: Api | None = None  # whose envelope a miss answers in
    allowed: tuple[str, ...] = ()  # methods served at this path (a 405 lists them)
    redirect: str | None = None  # the path to redirect to (an API that redirects a trailing slash)


@dataclass
class _Table:
    """Routes by path: static paths in a dict, templated ones as patterns."""

    fold: bool  # keys are lowercase and patterns ignore case
    static: dict[str, dict[str, Endpoint]] = field(default_factory=dict)
    templated: list[tuple[re.Pattern[str], dict[str, Endpoint]]] = field(default_factory=list)
    _by_pattern: dict[str, dict[str, Endpoint]] = field(default_factory=dict)

    def add(self, mount: str, op: Operation, endpoint: Endpoint) -> None:
        path = mount + op.path
        if "{" not in path:
            self.static.setdefault(path.lower() if self.fold else path, {})[op.method] = endpoint
            return
        full = f"^{re.escape(mount)}{_pattern(op).pattern}"
        methods = self._by_pattern.get(full)
        if methods is None:
            methods = self._by_pattern[full] = {}
            self.templated.append((re.compile(full, re.IGNORECASE if self.fold else 0), methods))
        methods[op.method] = endpoint

    def find(self, lookup: str, path: str) -> tuple[Endpoint | None, dict[str, str], set[str]]:
        """The endpoint for a method at a path, its parameters, and the methods served there."""
        allowed: set[str] = set()
        methods = self.static.get(path.lower() if self.fold else path)
        if methods is not None:
            endpoint = methods.get(lookup)
            if endpoint is not None:
                return endpoint, {}, allowed
            allowed |= set(methods)
        for pattern, candidates in self.templated:
            found = pattern.match(path)
            if found is not None:
                endpoint = candidates.get(lookup)
                if endpoint is not None:
                    return endpoint, found.groupdict(), allowed
                allowed |= set(candidates)
        return None, {}, allowed


class Router:
    def __init__(
        self, apis: Sequence[Api], make: Callable[[Api, Operation], Endpoint], fallback: Api
    ) -> None:
        self.fallback = fallback
        self._exact = _Table(fold=False)
        self._folded = _Table(fold=True)  # only the APIs whose paths ignore case
        self._owners: list[tuple[str, Api]] = []
        for api in apis:
            for mount in api.mounts:
                self._owners += [(namespace, api) for namespace in _namespaces(api, mount)]
                for op in api.served():
                    endpoint = make(api, op)
                    self._exact.add(mount, op, endpoint)
                    if not api.case_sensitive:
                        self._folded.add(mount, op, endpoint)
        self._owners.sort(key=lambda owner: -len(owner[0]))
        # A static route's match is made once and shared (callers only read it).
        self._static = {
            path: {method: Match(endpoint) for method, endpoint in methods.items()}
            for path, methods in self._exact.static.items()
        }
        self._templated = self._exact.templated
        self._lenient = bool(self._folded.static or self._folded.templated) or any(
            api.trailing_slash is not TrailingSlash.STRICT for api in apis
        )

    def match(self, method: str, path: str) -> Match:
        lookup = "GET" if method == "HEAD" else method  # HEAD is served by GET, as Starlette does
        # the hot path, inline: one dict lookup, then the patterns
        matches = self._static.get(path)
        if matches is not None and (found := matches.get(lookup)) is not None:
            return found
        for pattern, candidates in self._templated:
            parsed = pattern.match(path)
            if parsed is not None and (endpoint := candidates.get(lookup)) is not None:
                return Match(endpoint, parsed.groupdict())
        return self._miss(lookup, path)

    def _miss(self, lookup: str, path: str) -> Match:
        """No exact route: the methods served at the path, then each API's own rules."""
        _, _, allowed = self._exact.find(lookup, path)
        if self._lenient:
            found = self._lenient_match(lookup, path, allowed)
            if found is not None:
                return found
        if "GET" in allowed:
            allowed.add("HEAD")
        return Match(None, owner=self.owner(path), allowed=tuple(sorted(allowed)))

    def _lenient_match(self, lookup: str, path: str, allowed: set[str]) -> Match | None:
        """A miss, tried again under each API's own rules: any case, then without a trailing
        slash (served, or answered with a redirect). Adds what it sees to `allowed`."""
        endpoint, params, also = self._folded.find(lookup, path)
        allowed |= also
        if endpoint is not None:
            return Match(endpoint, params)
        if len(path) < 2 or not path.endswith("/"):
            return None
        bare = path[:-1]
        endpoint, params, _ = self._exact.find(lookup, bare)
        if endpoint is None:
            endpoint, params, _ = self._folded.find(lookup, bare)
        if endpoint is None:
            return None
        rule = endpoint.api.trailing_slash
        if rule is TrailingSlash.SERVE:
            return Match(endpoint, params)
        if rule is TrailingSlash.REDIRECT:
            return Match(None, owner=endpoint.api, redirect=bare)
        return None

    def owner(self, path: str) -> Api:
        folded = path.lower()
        for namespace, api in self._owners:
            if (path if api.case_sensitive else folded).startswith(namespace):
                return api
        return self.fallback


def _namespaces(api: Api, mount: str) -> set[str]:
    """Where a path that matches none of the API's routes still belongs to it: the mount, or
    (unmounted) the first segment of each of its paths, such as `/v1/`."""
    found = {mount + "/"} if mount else {"/" + op.path.strip("/").split("/")[0] + "/" for op in api.served()}
    return found if api.case_sensitive else {namespace.lower() for namespace in found}
