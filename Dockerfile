# Production image: gunicorn for web; the same image runs the Celery worker and beat.
FROM node:20-slim AS assets
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund

FROM python:3.11-slim
# PYTHONDONTWRITEBYTECODE: the image is read-only at run time, so its bytecode is compiled at build
# (UV_COMPILE_BYTECODE for the packages, compileall for the app): no process compiles on start.
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 UV_PROJECT_ENVIRONMENT=/venv UV_PYTHON_DOWNLOADS=never \
    UV_COMPILE_BYTECODE=1 PATH=/venv/bin:$PATH
WORKDIR /app
# WeasyPrint (customer documents as PDF) needs Pango and HarfBuzz, and fonts to set the text in.
RUN apt-get update && apt-get install -y --no-install-recommends \
        libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b libharfbuzz-subset0 fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*
RUN pip install --no-cache-dir uv==0.13.9
COPY pyproject.toml uv.lock ./
RUN uv sync --frozen --no-dev
COPY . .
RUN python -m compileall -q -x '(node_modules|tests|bench)' /app
COPY --from=assets /app/node_modules ./node_modules
RUN DJANGO_SECRET_KEY=build-only DJANGO_HTTPS=1 python manage.py collectstatic --noinput
RUN useradd --create-home app && chown -R app /app
USER app
EXPOSE 8000
CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
