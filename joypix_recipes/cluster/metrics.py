"""Prometheus metrics of a worker through Dramatiq's own middleware (messages processed, in progress, errors,
durations), served over HTTP by that middleware's exposition server.

The middleware keeps its figures in prometheus_client's multiprocess files, so a supervisor and its worker
processes share one folder: the workers count, the one that serves sums them up.
"""

from __future__ import annotations

import os
import tempfile
import threading
from dataclasses import dataclass

from dramatiq.broker import Broker

from joypix_recipes.errors import UsageError

ENV_FOLDER = "dramatiq_prom_db"
ENV_HOST = "dramatiq_prom_host"
ENV_PORT = "dramatiq_prom_port"


@dataclass(frozen=True)
class MetricsEndpoint:
    """Where the metrics are served, and the folder the processes counting them share."""

    host: str
    port: int
    folder: str

    @property
    def environment(self) -> dict[str, str]:
        """The variables Dramatiq's middleware reads when it is imported (the children inherit them)."""
        return {ENV_FOLDER: self.folder, ENV_HOST: self.host, ENV_PORT: str(self.port)}


def metrics_endpoint(host: str, port: int | None) -> MetricsEndpoint | None:
    """The endpoint ``--metrics-port`` asks for (None without it), its folder made fresh; UsageError for a bad port
    or a missing prometheus_client."""
    if port is None:
        return None
    if not 0 < port < 65536:
        raise UsageError(f"--metrics-port must be between 1 and 65535, got {port}")
    from importlib.util import find_spec

    if find_spec("prometheus_client") is None:
        raise UsageError("--metrics-port needs prometheus_client: pip install 'joypix-recipes[farm]'")
    return MetricsEndpoint(host, port, tempfile.mkdtemp(prefix="joypix-metrics-"))


def count_on(broker: Broker, endpoint: MetricsEndpoint) -> None:
    """Add Dramatiq's Prometheus middleware to ``broker``, counting into the endpoint's folder."""
    os.environ.update(endpoint.environment)  # read by the middleware's module when it is first imported
    from dramatiq.middleware.prometheus import Prometheus

    middleware = Prometheus()
    broker.add_middleware(middleware)
    middleware.after_process_boot(broker)  # type: ignore[no-untyped-call]


def serve_metrics(endpoint: MetricsEndpoint) -> None:
    """Serve the summed metrics from a daemon thread (the middleware's own exposition server)."""
    os.environ.update(endpoint.environment)
    from dramatiq.middleware.prometheus import Prometheus

    for serve in Prometheus().forks:
        threading.Thread(target=serve, name="joypix-metrics", daemon=True).start()
