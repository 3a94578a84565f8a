"""The docker deployment (docs/DEPLOY.md): docker/compose.yaml as the compose tool resolves it, on a
fresh clone in simulator mode without any secret file, and with live settings.

There is no Docker engine in CI, so nothing is built or started here: ``config`` is the compose
tool's own validation and interpolation. docker/dagster.yaml is loaded by a real instance on
PostgreSQL, with a real daemon, in kalshi_wx_tests/cli/test_doctor.py.
"""

from __future__ import annotations

import fnmatch
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from kalshi_wx.defs.settings import REPO_ROOT

DOCKER = REPO_ROOT / "docker"
DAGSTER_SERVICES = ("user_code", "webserver", "daemon")
COMPUTE_LOGS = "/opt/dagster/compute_logs"


def _compose_command() -> list[str] | None:
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    if shutil.which("docker"):
        probe = subprocess.run(["docker", "compose", "version"], capture_output=True)
        if probe.returncode == 0:
            return ["docker", "compose"]
    return None


def _compose_config(env_file: Path) -> dict:
    """``compose config`` with only ``env_file`` for settings: no docker/.env, nothing from this shell."""
    command = _compose_command()
    if command is None:
        message = (
            "docker-compose (Debian package docker-compose) or the docker compose plugin validates docker/compose.yaml"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(f"{message}: CI must have it (.ci/run installs it with apt-get)")
        pytest.skip(f"{message}; neither is installed")
    settings = ("KALSHI_", "VISUAL_CROSSING_", "POSTGRES_", "DAGSTER_")
    environment = {k: v for k, v in os.environ.items() if not k.startswith(settings)}
    result = subprocess.run(
        [*command, "--env-file", str(env_file), "-f", str(DOCKER / "compose.yaml"), "config"],
        capture_output=True, text=True, env=environment, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return yaml.safe_load(result.stdout)


@pytest.fixture(scope="module")
def fresh_clone(tmp_path_factory) -> dict:
    empty = tmp_path_factory.mktemp("compose") / "empty.env"
    empty.write_text("")
    return _compose_config(empty)


def test_a_fresh_clone_validates_in_simulator_mode_without_any_secret_file(fresh_clone):
    assert set(fresh_clone["services"]) == {"postgres", *DAGSTER_SERVICES}
    assert "secrets" not in fresh_clone  # nothing that must exist on disk before `up`
    code = fresh_clone["services"]["user_code"]["environment"]
    assert code["KALSHI_API_KEY_ID"] == code["VISUAL_CROSSING_API_KEY"] == ""  # so: the simulator
    assert code["KALSHI_PRIVATE_KEY_PATH"] == ""  # the PEM is read only when this is set
    [secrets] = [v for v in fresh_clone["services"]["user_code"]["volumes"] if v.endswith(":/run/kalshi:ro")]
    assert Path(secrets.split(":")[0]) == DOCKER / "secrets"  # a directory in the clone, empty but for .gitignore


def test_live_settings_reach_the_code_server_only(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text(
        "POSTGRES_PASSWORD=pw-for-compose-test\nKALSHI_API_KEY_ID=key-id\n"
        "KALSHI_PRIVATE_KEY_PATH=/run/kalshi/kalshi.pem\nVISUAL_CROSSING_API_KEY=vc-key\n"
    )
    services = _compose_config(env_file)["services"]
    code = services["user_code"]["environment"]
    assert code["KALSHI_PRIVATE_KEY_PATH"] == "/run/kalshi/kalshi.pem" and code["KALSHI_API_KEY_ID"] == "key-id"
    assert code["KALSHI_WX_WAREHOUSE_URL"] == "postgresql://dagster:pw-for-compose-test@postgres:5432/kalshi_wx"
    assert services["postgres"]["environment"]["POSTGRES_PASSWORD"] == "pw-for-compose-test"
    for name in ("webserver", "daemon"):
        environment = services[name]["environment"]
        assert environment["DAGSTER_PG_PASSWORD"] == "pw-for-compose-test"
        assert not [k for k in environment if k.startswith(("KALSHI_", "VISUAL_CROSSING_"))]


def test_every_service_is_health_checked_and_restarted(fresh_clone):
    services = fresh_clone["services"]
    checks = {name: " ".join(service["healthcheck"]["test"]) for name, service in services.items()}
    assert "pg_isready" in checks["postgres"]
    assert "dagster api grpc-health-check -p 4000" in checks["user_code"]
    assert "http://127.0.0.1:3000/server_info" in checks["webserver"]
    assert "dagster-daemon liveness-check" in checks["daemon"]
    assert {service["restart"] for service in services.values()} == {"unless-stopped"}
    for name in ("webserver", "daemon"):
        assert services[name]["depends_on"]["user_code"] == {"condition": "service_healthy"}


def test_one_image_one_location_and_shared_compute_logs(fresh_clone):
    services = fresh_clone["services"]
    assert {services[name]["image"] for name in DAGSTER_SERVICES} == {"kalshi-wx:local"}
    assert "--location-name kalshi_wx" in services["user_code"]["command"]
    workspace = yaml.safe_load((DOCKER / "workspace.yaml").read_text())
    assert [entry["grpc_server"]["location_name"] for entry in workspace["load_from"]] == ["kalshi_wx"]
    # Runs write their stdout where they run (user_code); the webserver must read the same volume.
    mounts = {name: [v for v in services[name]["volumes"] if f":{COMPUTE_LOGS}" in v] for name in DAGSTER_SERVICES}
    assert {m.split(":")[0] for mount in mounts.values() for m in mount} == {"compute_logs"}
    assert f"DAGSTER_COMPUTE_LOGS_DIR={COMPUTE_LOGS}" in (DOCKER / "Dockerfile").read_text()
    instance = yaml.safe_load((DOCKER / "dagster.yaml").read_text())
    assert instance["compute_logs"]["config"]["base_dir"] == {"env": "DAGSTER_COMPUTE_LOGS_DIR"}


def _ignored(path: str, patterns: list[str]) -> bool:
    """Whether .dockerignore leaves ``path`` out (the pattern forms this repository uses)."""
    for pattern in patterns:
        if pattern.startswith("**/"):
            parts = Path(path).parts
            if any(fnmatch.fnmatch("/".join(parts[i:]), pattern[3:]) for i in range(len(parts))):
                return True
        elif fnmatch.fnmatch(path, pattern) or path.startswith(f"{pattern}/"):
            return True
    return False


def test_the_build_context_ships_what_the_image_copies_and_no_local_state():
    patterns = [
        line.strip() for line in (REPO_ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]  # fmt: skip
    for local in (".venv", ".git", "data", "dbt_features/target", "dbt_features/logs", "docker/secrets",
                  "docker/.env", "kalshi_wx/__pycache__", "config/kalshi.pem"):  # fmt: skip
        assert _ignored(local, patterns), local
    copies = [
        line.split()[1:-1] for line in (DOCKER / "Dockerfile").read_text().splitlines() if line.startswith("COPY")
    ]
    sources = [source for sources in copies for source in sources]
    assert {"kalshi_wx", "config", "dbt_features", "docker/dagster.yaml"} <= set(sources)
    for source in sources:
        assert (REPO_ROOT / source).exists() and not _ignored(source, patterns), source
