# tuning-bot: Slack app for Vertex AI supervised tuning.
# Build: docker build -t tuning-bot .   Run: docker run --env-file tuning-bot.env tuning-bot
FROM python:3.11-slim AS base

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Dependencies in their own layer: rebuilt only when pyproject.toml changes.
COPY pyproject.toml README.md ./
RUN mkdir -p bot && touch bot/__init__.py \
    && pip install . \
    && pip uninstall -y tuning-bot

COPY bot ./bot
# `tuning-bot doctor` compares the token's scopes with the ones the manifest asks for.
COPY manifest.yaml ./
RUN pip install --no-deps . \
    && useradd --create-home --uid 10001 --shell /usr/sbin/nologin tuningbot \
    && mkdir -p /data && chown tuningbot /data

USER tuningbot

# SQLite by default on a volume; set DATABASE_URL to PostgreSQL when running several replicas.
ENV DATABASE_URL=sqlite:////data/tuning-bot.db \
    PORT=3000
VOLUME ["/data"]
EXPOSE 3000

HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD python -c "import os,urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '3000'), timeout=4)"

ENTRYPOINT ["tuning-bot"]
