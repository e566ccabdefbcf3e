# The render trigger: animate_job/trigger.py under functions-framework, one image for
# its three Cloud Run services (FUNCTION_TARGET and FUNCTION_SIGNATURE_TYPE pick the
# entry point). No torch: the `trigger` extra never pulls it.
# Build from the repository root: docker build -f animate_job/trigger.Dockerfile .
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    ANIMBOOKS_DATA_DIR=/tmp/animbooks \
    PORT=8080

WORKDIR /app
# Exactly the locked versions the tests ran (make lock), each checked against its hash.
COPY locks/trigger.txt ./locks/
RUN pip install --no-cache-dir --require-hashes --no-deps -r locks/trigger.txt

COPY pyproject.toml README.md ./
COPY infra ./infra
COPY animate_job ./animate_job
COPY frontend_service ./frontend_service

RUN pip install --no-cache-dir --no-deps --no-build-isolation . \
    && cp animate_job/trigger.py /srv/main.py \
    && rm -rf /app/infra /app/animate_job /app/frontend_service \
    && useradd --uid 10001 --no-create-home --shell /usr/sbin/nologin trigger

USER 10001
WORKDIR /srv
CMD ["sh", "-c", "exec functions-framework --source=/srv/main.py --target=${FUNCTION_TARGET} --signature-type=${FUNCTION_SIGNATURE_TYPE} --port=${PORT}"]
