# Newsdesk: the API, its store and its index in one container; the state lives in /data.
#
#   docker build -t newsdesk .
#   docker run -d --name newsdesk -p 8000:8000 -e NEWSDESK_API_KEYS=change-me \
#       -v newsdesk-data:/data newsdesk
#
# `newsdesk serve` refuses to listen on 0.0.0.0 without NEWSDESK_API_KEYS (writes would be
# open), so the key is required. Migrations run at every start, before the first request.
# scripts/container_smoke.sh builds and runs this file on a machine without Docker.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH

# A numeric user of its own; /data is created here so that a new named volume inherits its owner.
RUN groupadd --gid 10001 newsdesk \
    && useradd --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin newsdesk \
    && mkdir /data \
    && chown 10001:10001 /data

WORKDIR /opt/newsdesk

# The dependencies first, in a layer of their own: it is rebuilt only when pyproject.toml changes.
COPY pyproject.toml README.md ./
RUN python -m venv /opt/venv \
    && python -c 'import tomllib; print("\n".join(tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"]))' \
        > /tmp/requirements.txt \
    && pip install --no-cache-dir -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

# Then the project itself, installed as its wheel installs anywhere: migrations/ and data/sample/
# travel inside the package (pyproject.toml maps them to app/bundled/); the sources then go.
COPY app/ app/
COPY migrations/ migrations/
COPY data/sample/ data/sample/
RUN pip install --no-cache-dir --no-deps . \
    && rm -rf app migrations data build ./*.egg-info

ENV NEWSDESK_DATA_DIR=/data
VOLUME /data
WORKDIR /data
USER 10001:10001
EXPOSE 8000

# Healthy when /health answers `"status": "ok"` (the store answers and the index writer lives).
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import json, sys, urllib.request; r = urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=4); sys.exit(json.load(r)['status'] != 'ok')"]

CMD ["newsdesk", "serve", "--host", "0.0.0.0", "--port", "8000"]
