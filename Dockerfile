# carecoord application image: the same image runs web (gunicorn), worker and beat.
FROM python:3.13-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# WeasyPrint (hand-off PDFs) needs Pango and a font at run time.
RUN if ! ldconfig -p | grep -q libpangoft2; then \
        apt-get update \
        && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core \
        && rm -rf /var/lib/apt/lists/*; \
    fi

# psycopg[binary] and the other pins ship wheels: no compiler or libpq headers needed.
COPY requirements.txt ./
RUN pip install -r requirements.txt

COPY . .

# Static files are collected into the image and served by WhiteNoise. Settings refuse to load
# without a real SECRET_KEY when DEBUG is off, so this step gets a throwaway one.
RUN SECRET_KEY="build-only-$(python -c 'import secrets; print(secrets.token_urlsafe(48))')" \
    DEBUG=0 python manage.py collectstatic --noinput \
    && useradd --system --uid 1000 --home-dir /app carecoord \
    && mkdir -p /app/var/media \
    && chown -R carecoord /app/var

USER carecoord
EXPOSE 8000

CMD ["gunicorn", "config.wsgi", "--preload", "--bind", "0.0.0.0:8000", "--access-logfile", "-"]
