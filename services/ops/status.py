"""`prevention ops status --release NAME --namespace NS` (SPEC OPS-4).

Reads the release's Deployments (label ``app.kubernetes.io/instance=<release>``) and their pods
through the Kubernetes API and prints one row per Deployment: ready/desired replicas, available,
updated, and the pods that are not ready with the reason. Exit codes: 0 healthy; 1 degraded (a
Deployment with fewer ready replicas than desired, or no Deployments at all); 2 the API could not
be read.

RBAC for whoever runs it (a person's kubeconfig or a CI service account), in the release's
namespace: ``apps`` ``deployments`` ``list``; core ``pods`` ``list``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console
from rich.table import Table

__all__ = ["DeploymentStatus", "ReleaseStatus", "collect", "kubernetes_apis", "render", "run"]

INSTANCE_LABEL = "app.kubernetes.io/instance"
HEALTHY, DEGRADED, API_ERROR = 0, 1, 2


@dataclass(frozen=True)
class DeploymentStatus:
    name: str
    desired: int
    ready: int
    available: int
    updated: int
    pods: int
    not_ready: list[str] = field(default_factory=list)  # "pod: reason"

    @property
    def healthy(self) -> bool:
        return self.ready >= self.desired


@dataclass(frozen=True)
class ReleaseStatus:
    release: str
    namespace: str
    deployments: list[DeploymentStatus]

    @property
    def healthy(self) -> bool:
        return bool(self.deployments) and all(d.healthy for d in self.deployments)


def kubernetes_apis() -> tuple[Any, Any]:
    """(AppsV1Api, CoreV1Api) from the in-cluster config when in a pod, else the kubeconfig."""
    import os

    from kubernetes import client, config

    if os.environ.get("KUBERNETES_SERVICE_HOST"):
        config.load_incluster_config()
    else:
        config.load_kube_config()
    return client.AppsV1Api(), client.CoreV1Api()


def _selects(match_labels: dict[str, str] | None, labels: dict[str, str] | None) -> bool:
    if not match_labels:
        return False
    labels = labels or {}
    return all(labels.get(k) == v for k, v in match_labels.items())


def _pod_ready(pod: Any) -> bool:
    for condition in (pod.status and pod.status.conditions) or []:
        if condition.type == "Ready":
            return condition.status == "True"
    return False


def _pod_reason(pod: Any) -> str:
    status = pod.status
    if status is None:
        return "Unknown"
    for container in status.container_statuses or []:
        state = container.state
        if state is not None and state.waiting is not None and state.waiting.reason:
            return state.waiting.reason
        if state is not None and state.terminated is not None and state.terminated.reason:
            return state.terminated.reason
        if not container.ready:
            return "ContainerNotReady"
    return status.phase or "NotReady"


def collect(apps_api: Any, core_api: Any, release: str, namespace: str) -> ReleaseStatus:
    selector = f"{INSTANCE_LABEL}={release}"
    deployments = apps_api.list_namespaced_deployment(namespace, label_selector=selector).items or []
    pods = core_api.list_namespaced_pod(namespace, label_selector=selector).items or []
    rows = []
    for deployment in sorted(deployments, key=lambda d: d.metadata.name):
        spec, status = deployment.spec, deployment.status
        desired = spec.replicas if spec is not None and spec.replicas is not None else 1
        match_labels = spec.selector.match_labels if spec is not None and spec.selector is not None else None
        owned = [p for p in pods if _selects(match_labels, p.metadata.labels)
                 and not (p.metadata.deletion_timestamp and p.status and p.status.phase == "Succeeded")]
        rows.append(DeploymentStatus(
            name=deployment.metadata.name,
            desired=desired,
            ready=(status.ready_replicas or 0) if status is not None else 0,
            available=(status.available_replicas or 0) if status is not None else 0,
            updated=(status.updated_replicas or 0) if status is not None else 0,
            pods=len(owned),
            not_ready=sorted(f"{p.metadata.name}: {_pod_reason(p)}" for p in owned if not _pod_ready(p)),
        ))
    return ReleaseStatus(release=release, namespace=namespace, deployments=rows)


def render(status: ReleaseStatus) -> Table:
    table = Table(title=f"release {status.release} in namespace {status.namespace}")
    for column in ("deployment", "ready/desired", "available", "updated", "pods", "status", "not ready"):
        table.add_column(column, no_wrap=column != "not ready")
    for d in status.deployments:
        table.add_row(
            d.name, f"{d.ready}/{d.desired}", str(d.available), str(d.updated), str(d.pods),
            "OK" if d.healthy else "DEGRADED", "\n".join(d.not_ready),
            style=None if d.healthy else "red",
        )
    return table


def _summary(status: ReleaseStatus) -> Iterable[str]:
    if not status.deployments:
        yield (f"no Deployments with label {INSTANCE_LABEL}={status.release} in namespace "
               f"{status.namespace}: DEGRADED")
        return
    bad = [d.name for d in status.deployments if not d.healthy]
    yield f"DEGRADED: {', '.join(bad)}" if bad else f"{len(status.deployments)} deployments ready: OK"


def run(release: str, namespace: str, *, apps_api: Any = None, core_api: Any = None,
        console: Console | None = None) -> int:
    """Print the release's status table; return the exit code (0 healthy, 1 degraded, 2 error)."""
    from kubernetes.client.exceptions import ApiException

    console = console or Console(width=200, soft_wrap=False)
    try:
        if apps_api is None or core_api is None:
            apps_api, core_api = kubernetes_apis()
        status = collect(apps_api, core_api, release, namespace)
    except ApiException as exc:
        console.print(f"cannot read the release from the Kubernetes API: {exc.status} {exc.reason}")
        return API_ERROR
    except Exception as exc:  # no kubeconfig, API server unreachable
        console.print(f"cannot reach the Kubernetes API: {exc}")
        return API_ERROR
    if status.deployments:
        console.print(render(status))
    for line in _summary(status):
        console.print(line)
    return HEALTHY if status.healthy else DEGRADED
