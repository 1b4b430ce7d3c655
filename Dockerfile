# The fake as a container image: `mockserver` on 0.0.0.0:8000 as a non-root user, configured by
# its MOCKSERVER_* variables (docs/container.md). Classic-builder syntax only (no BuildKit
# mounts), so every docker builds it, Debian's docker.io 20.10 included.
#
#   docker build -t videogen-mock .                        # packages from the index
#   docker build --build-arg PIP_INDEX_URL=https://mirror.example/simple/ -t videogen-mock .
#   pip wheel ".[redis]" -w wheels/ && docker build ...    # offline: from wheels/, no index
#   docker build --build-arg BASE_IMAGE=python:3.13-slim -t videogen-mock .
ARG BASE_IMAGE=python:3.12-slim

FROM ${BASE_IMAGE} AS build
# The classic builder keeps this stage as an untagged image: the label finds it for pruning.
LABEL org.videogen-mock.stage=build
# Where there is no wheelhouse: an index other than PyPI, e.g. a mirror (none: pip's default).
ARG PIP_INDEX_URL
# The sources .dockerignore lets in, and wheels/ when the context has one.
COPY . /src
# A virtualenv that the runtime stage copies whole: pip, its cache and the sources stay here.
RUN python3 -m venv /opt/venv \
    && if ls /src/wheels/videogen_mock-*.whl >/dev/null 2>&1; then \
           /opt/venv/bin/pip install --no-cache-dir --no-index --find-links /src/wheels "videogen-mock[redis]"; \
       else \
           /opt/venv/bin/pip install --no-cache-dir "/src[redis]"; \
       fi \
    && /opt/venv/bin/pip uninstall --yes --quiet pip setuptools

FROM ${BASE_IMAGE}
# A numeric user, so Kubernetes' runAsNonRoot can check it without the image's /etc/passwd.
RUN groupadd --system --gid 10001 mockserver \
    && useradd --system --uid 10001 --gid 10001 --home-dir /nonexistent --no-create-home \
        --shell /usr/sbin/nologin mockserver
COPY --from=build /opt/venv /opt/venv
# Unbuffered, so the banner (with a generated control token) reaches `docker logs` at once;
# the installed modules are compiled already and the user may not write beside them.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    MOCKSERVER_HOST=0.0.0.0 \
    MOCKSERVER_PORT=8000
USER 10001:10001
EXPOSE 8000
# Readiness from inside the container (no curl in a slim image): the port and address the
# variables give, a wildcard address asked on loopback.
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import http.client, os; host = os.environ.get('MOCKSERVER_HOST', '127.0.0.1'); host = {'0.0.0.0': '127.0.0.1', '::': '::1', '': '127.0.0.1'}.get(host, host); conn = http.client.HTTPConnection(host, int(os.environ.get('MOCKSERVER_PORT', '8000')), timeout=4); conn.request('GET', '/__mock/health'); raise SystemExit(conn.getresponse().status != 200)"]
# Exec form: mockserver is PID 1 and gets SIGTERM itself (uvicorn handles it: requests in
# flight get MOCKSERVER_SHUTDOWN_TIMEOUT seconds). Arguments after the image name are its flags.
ENTRYPOINT ["mockserver"]
