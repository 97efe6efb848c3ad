# The worker and the gateway. Multi-stage: the wheel is built in one stage and
# installed alone in the next, without dev dependencies or the Temporal CLI
# binaries (a cluster runs Temporal; these images only connect to it).
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY schemas schemas
COPY infra infra
COPY activities activities
COPY workflows workflows
COPY operations operations
COPY workers workers
COPY gateway gateway
COPY consult consult
RUN pip wheel --no-deps --wheel-dir /wheels .

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 consult
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
USER consult
WORKDIR /home/consult
ENV CONSULT_LOG_FORMAT=json
CMD ["consult", "worker"]
