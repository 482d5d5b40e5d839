# Atelier in a container: the Streamlit app (port 8501) or, with another command, the HTTP
# prediction API (`python -m core serve --host 0.0.0.0`, port 8000).  Metadata and artifacts go
# wherever ATELIER_DATABASE_URL and ATELIER_ARTIFACTS_URL say (docker-compose.yml: PostgreSQL and
# MinIO); /data is only the scratch folder (caches, staging, job logs).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    ATELIER_HOME=/data

# libgomp1: the OpenMP runtime LightGBM and XGBoost train with.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libgomp1 \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY requirements.txt ./
RUN pip install -r requirements.txt

COPY . .
RUN useradd --create-home --uid 1000 atelier && mkdir -p /data && chown atelier /data
USER atelier

EXPOSE 8501 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8501/_stcore/health', timeout=4)"
CMD ["streamlit", "run", "app.py", "--server.address=0.0.0.0", "--server.port=8501"]
