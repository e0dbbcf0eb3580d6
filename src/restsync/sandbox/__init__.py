"""Simulated APIs of the seed integrations, on loopback, for the demo, the tests and benchmarks.

```python
from restsync.sandbox import Sandbox, Faults

with Sandbox("orders", faults=Faults(rate_429=0.1)) as sb:
    config = sb.config()        # the seed's config dict, pointed at the sandbox
    sb.expected("orders")       # what a complete sync must load
```

APIs: fulfillment (seed 000), ecommerce (001), orders (002), commerce (003), inventory (004) and
bench (a large generic API for throughput runs). See README.md in this folder.
"""

from __future__ import annotations

from restsync.sandbox.apis import API_NAMES, APIS, ApiSpec, ResourceSpec
from restsync.sandbox.app import LoggedRequest, SandboxApp
from restsync.sandbox.options import (
    FAULT_KINDS,
    Faults,
    FaultSpecError,
    SandboxOptions,
    parse_faults,
)
from restsync.sandbox.server import (
    Received,
    RecordingServer,
    Sandbox,
    SandboxProcess,
    seed_config,
    serve_forever,
)

__all__ = [
    "APIS",
    "API_NAMES",
    "FAULT_KINDS",
    "ApiSpec",
    "FaultSpecError",
    "Faults",
    "LoggedRequest",
    "Received",
    "RecordingServer",
    "ResourceSpec",
    "Sandbox",
    "SandboxApp",
    "SandboxOptions",
    "SandboxProcess",
    "parse_faults",
    "seed_config",
    "serve_forever",
]
