# Kleroterion in one container: the app, with its database on a named volume at /data.
#   docker compose up -d          (compose.yaml beside this file; docs/DEPLOYING.md explains every step)
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
# The app's own pins only (requirements.txt): no test tools in the image.
COPY requirements.txt ./
RUN pip install -r requirements.txt

# The app's files belong to root: the app's user can read them, never change them.
COPY . .
RUN useradd --system --uid 10001 --user-group --create-home --home-dir /home/kleroterion \
        --shell /usr/sbin/nologin kleroterion \
    && mkdir -p /data \
    && chown kleroterion:kleroterion /data \
    && chmod 0700 /data

# Everything the assembly is lives in /data: the database, the sign-in and survey keys beside it
# (<database>.session-key, <database>.survey-key) and the backups the app writes every night.
# No demo: an empty database starts the set-up of a real assembly. The secrets file is mounted
# read-only at /app/.streamlit/secrets.toml (see compose.yaml).
ENV KLEROTERION_DB=/data/kleroterion.duckdb \
    KLEROTERION_DEMO=0 \
    KLEROTERION_BACKUP_DIR=/data/backups \
    HOME=/home/kleroterion
VOLUME ["/data"]
USER kleroterion
EXPOSE 8501

HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8501/_stcore/health', timeout=4).status == 200 else 1)"]

# SIGTERM (docker stop) lets the app write the survey answers waiting in memory: give it time
# (compose.yaml: stop_grace_period).
STOPSIGNAL SIGTERM
CMD ["streamlit", "run", "app.py", "--server.port=8501", "--server.address=0.0.0.0", "--server.headless=true", "--browser.gatherUsageStats=false", "--server.fileWatcherType=none"]
