"""`prevention ops status` (SPEC OPS-4) against recorded Kubernetes API responses.

No Kubernetes API server can run here. The fixtures under ``fixtures/`` are DeploymentList and
PodList responses in the API's JSON shape (a healthy release, a degraded one where a training pod
is in CrashLoopBackOff, and an empty namespace); they are deserialised into the official client's
models with ``ApiClient().deserialize`` (the code path real responses take) and served by a fake
``AppsV1Api``/``CoreV1Api`` that also checks the label selector the command sends.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from kubernetes import client
from typer.testing import CliRunner

from services.cli import app
from services.ops import status

FIXTURES = Path(__file__).parent / "fixtures"
SELECTOR = "app.kubernetes.io/instance=prevention"


def recorded(name: str, kind: str):
    return client.ApiClient().deserialize((FIXTURES / f"{name}.json").read_text(encoding="utf-8"), kind,
                                          "application/json")


class FakeApps:
    def __init__(self, scenario: str):
        self.scenario = scenario
        self.calls: list[tuple[str, str]] = []

    def list_namespaced_deployment(self, namespace, *, label_selector=None, **_):
        self.calls.append((namespace, label_selector))
        return recorded(f"{self.scenario}-deployments", "V1DeploymentList")


class FakeCore:
    def __init__(self, scenario: str):
        self.scenario = scenario
        self.calls: list[tuple[str, str]] = []

    def list_namespaced_pod(self, namespace, *, label_selector=None, **_):
        self.calls.append((namespace, label_selector))
        return recorded(f"{self.scenario}-pods", "V1PodList")


def invoke(monkeypatch, scenario: str):
    apps, core = FakeApps(scenario), FakeCore(scenario)
    monkeypatch.setattr(status, "kubernetes_apis", lambda: (apps, core))
    result = CliRunner().invoke(app, ["ops", "status", "--release", "prevention", "--namespace", "prevention"])
    assert apps.calls == [("prevention", SELECTOR)]
    assert core.calls == [("prevention", SELECTOR)]
    return result


def rows(output: str) -> dict[str, list[str]]:
    table = {}
    for line in output.splitlines():
        cells = [c.strip() for c in line.strip().strip("│┃").split("│")]
        if cells and cells[0].startswith("prevention-"):
            table[cells[0]] = cells[1:]
    return table


def test_fixtures_deserialise_into_client_models():
    deployments = recorded("healthy-deployments", "V1DeploymentList")
    assert isinstance(deployments, client.V1DeploymentList)
    assert isinstance(deployments.items[0], client.V1Deployment)
    assert deployments.items[0].spec.selector.match_labels["app.kubernetes.io/instance"] == "prevention"
    assert isinstance(recorded("healthy-pods", "V1PodList").items[0], client.V1Pod)


def test_healthy_release_exits_0_with_a_row_per_deployment(monkeypatch):
    result = invoke(monkeypatch, "healthy")
    assert result.exit_code == 0, result.output
    table = rows(result.output)
    assert set(table) == {f"prevention-{n}" for n in ("assessment", "gateway", "identity", "sharing", "training")}
    # deployment | ready/desired | available | updated | pods | status | not ready
    assert table["prevention-training"][:5] == ["2/2", "2", "2", "2", "OK"]
    assert table["prevention-identity"][:5] == ["1/1", "1", "1", "1", "OK"]
    assert "5 deployments ready: OK" in result.output
    assert "DEGRADED" not in result.output


def test_degraded_release_exits_1_and_names_the_failing_pod(monkeypatch):
    result = invoke(monkeypatch, "degraded")
    assert result.exit_code == 1, result.output
    table = rows(result.output)
    assert table["prevention-training"][:5] == ["1/2", "1", "2", "2", "DEGRADED"]
    assert "CrashLoopBackOff" in table["prevention-training"][5]
    assert table["prevention-gateway"][:5] == ["2/2", "2", "2", "2", "OK"]
    assert "DEGRADED: prevention-training" in result.output


def test_no_deployments_exits_1(monkeypatch):
    result = invoke(monkeypatch, "empty")
    assert result.exit_code == 1, result.output
    assert "no Deployments with label app.kubernetes.io/instance=prevention" in result.output


def test_api_error_exits_2(monkeypatch):
    class Forbidden:
        def list_namespaced_deployment(self, *args, **kwargs):
            raise client.ApiException(status=403, reason="Forbidden")

    monkeypatch.setattr(status, "kubernetes_apis", lambda: (Forbidden(), FakeCore("healthy")))
    result = CliRunner().invoke(app, ["ops", "status", "--release", "prevention", "--namespace", "prevention"])
    assert result.exit_code == 2, result.output
    assert "403 Forbidden" in result.output


@pytest.mark.parametrize("scenario, healthy", [("healthy", True), ("degraded", False), ("empty", False)])
def test_collect(scenario, healthy):
    release = status.collect(FakeApps(scenario), FakeCore(scenario), "prevention", "prevention")
    assert release.healthy is healthy
