"""`python -m restsync.sandbox NAME [--port N] [--records N|JSON] [--faults SPEC] [--json]`."""

from __future__ import annotations

import argparse
import json
import sys

from restsync.errors import ConfigError
from restsync.sandbox.apis import API_NAMES
from restsync.sandbox.options import Faults, SandboxOptions, parse_faults
from restsync.sandbox.server import serve_forever


def main(argv: list[str] | None = None) -> int:
    """Serve one sandbox API in the foreground."""
    parser = argparse.ArgumentParser(prog="python -m restsync.sandbox")
    parser.add_argument("name", choices=API_NAMES)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument(
        "--records", help="a count per resource, or a JSON object resource -> count"
    )
    parser.add_argument("--faults", default="", help="fault spec, e.g. 429=0.1,slow=50ms")
    parser.add_argument("--faults-json", help=argparse.SUPPRESS)
    parser.add_argument("--options", help="SandboxOptions as a JSON object")
    parser.add_argument("--json", action="store_true", help="print one JSON line instead of text")
    args = parser.parse_args(argv)
    try:
        records = json.loads(args.records) if args.records else None
        faults = (
            Faults.from_dict(json.loads(args.faults_json))
            if args.faults_json
            else parse_faults(args.faults)
        )
        options = SandboxOptions.from_dict(json.loads(args.options)) if args.options else None
    except ConfigError as exc:
        print(exc, file=sys.stderr)  # noqa: T201
        return 2
    serve_forever(args.name, args.port, records, faults, options, as_json=args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
