"""The `restsync` command: thin click commands over the library.

Exit codes (the README lists them too):

- 0: every resource was loaded, exactly;
- 1: a resource failed (the others were loaded; none of its rows or state);
- 2: a config error, a missing secret or a bad argument (nothing was requested);
- 3: the destination refused the load (rolled back: nothing of it remains);
- 4: an internal failure of restsync (e.g. the normalizer process crashed); nothing loaded;
- 130: interrupted (Ctrl-C): the requests stopped, nothing loaded, the stage removed.
"""

from __future__ import annotations

import importlib
import logging
import os
import signal
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click
from rich.console import Console

from restsync.errors import ConfigError, LoadError, ResourceError, RestsyncError
from restsync.util.redact import redact_text

EXIT_OK, EXIT_FAILED_RESOURCES, EXIT_CONFIG, EXIT_LOAD = 0, 1, 2, 3
EXIT_INTERNAL, EXIT_INTERRUPTED = 4, 130

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def _fail(message: str, code: int) -> None:
    err.print(redact_text(message), markup=False)
    sys.exit(code)


SANDBOX_MODULES = ("uvicorn", "httptools")


def _require_sandbox(command: str) -> None:
    """Exit with the install line when the `sandbox` extra (its HTTP server) is missing."""
    for module in SANDBOX_MODULES:
        try:
            importlib.import_module(module)
        except ImportError:
            _fail(
                f"restsync {command} serves a sandbox API, which needs the sandbox extra "
                f"({module} is not installed): pip install 'restsync[sandbox]'",
                EXIT_CONFIG,
            )


class Interrupts:
    """Ctrl-C during a run: the first raises `KeyboardInterrupt` (the run stops its requests
    and removes its stage), a second one exits at once with 130."""

    def __enter__(self) -> Interrupts:
        try:
            self._previous: Any = signal.signal(signal.SIGINT, self._first)
        except ValueError:  # not the main thread: leave Ctrl-C as it is
            self._previous = None
        return self

    def __exit__(self, *exc: object) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)

    def _first(self, signum: int, frame: Any) -> None:
        signal.signal(signal.SIGINT, self._again)
        raise KeyboardInterrupt

    @staticmethod
    def _again(signum: int, frame: Any) -> None:
        os.write(2, b"\ninterrupted again: exiting now\n")
        os._exit(EXIT_INTERRUPTED)


def load_source(config: str, base_url: str | None = None, incremental: bool = True) -> Any:
    """A source from a built-in connector's name or a config file (YAML/TOML/JSON/Python)."""
    from restsync.connectors import CONNECTORS, connector_source
    from restsync.extract._source import RestApiSource, rest_api_source

    path = Path(config)
    if not path.exists() and (config in CONNECTORS or not path.suffix):
        # a connector's name (an unknown one gets a did-you-mean)
        return connector_source(config, base_url=base_url, incremental=incremental)
    from restsync.config._files import load_config_file

    loaded = load_config_file(path)
    if isinstance(loaded, RestApiSource):
        source = loaded
    elif isinstance(loaded, Mapping):
        cfg = dict(loaded)
        if base_url:
            cfg["client"] = {**dict(cfg.get("client") or {}), "base_url": base_url}
        source = rest_api_source(cfg, name=path.stem)
    else:
        raise ConfigError(
            f"{path}: holds a {type(loaded).__name__}, not a restsync source; expose "
            "`source = rest_api_source({...})` or a `config` dict"
        )
    if base_url and isinstance(loaded, RestApiSource):
        source.client_config["base_url"] = base_url
    return source


def _setup_logging(verbose: int, json_logs: bool) -> None:
    level = logging.WARNING - 10 * verbose
    handler = logging.StreamHandler(sys.stderr)
    if json_logs:
        import orjson

        class JsonFormatter(logging.Formatter):
            def format(self, record: logging.LogRecord) -> str:
                return orjson.dumps(
                    {
                        "time": self.formatTime(record),
                        "level": record.levelname,
                        "logger": record.name,
                        "message": redact_text(record.getMessage()),
                    }
                ).decode()

        handler.setFormatter(JsonFormatter())
    else:

        class RedactingFormatter(logging.Formatter):
            def format(self, record: logging.LogRecord) -> str:
                return redact_text(super().format(record))

        handler.setFormatter(RedactingFormatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("restsync")
    root.handlers[:] = [handler]
    root.setLevel(max(level, logging.DEBUG))


def _log_above(console: Console) -> None:
    """Send restsync's log lines through `console`, which prints them above a live display."""

    class ConsoleHandler(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            console.print(self.format(record), markup=False, highlight=False)

    logger = logging.getLogger("restsync")
    for old in list(logger.handlers):
        handler = ConsoleHandler(old.level)
        handler.setFormatter(old.formatter)
        logger.removeHandler(old)
        logger.addHandler(handler)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", count=True, help="More log output (-v info, -vv debug).")
@click.option("--json-logs", is_flag=True, help="Log lines as JSON objects (for schedulers).")
@click.version_option(package_name="restsync")
def cli(verbose: int, json_logs: bool) -> None:
    """restsync: sync paginated JSON REST APIs into DuckDB, Postgres or Parquet."""
    _setup_logging(verbose, json_logs)


@cli.command()
@click.argument("config")
@click.option(
    "--destination",
    default="duckdb",
    show_default=True,
    help="duckdb, duckdb:///path.db, postgresql://..., parquet:///dir",
)
@click.option("--dataset", default=None, help="Dataset (schema) name; default <pipeline>_data.")
@click.option(
    "--pipeline", "pipeline_name", default=None, help="Pipeline name; default from CONFIG."
)
@click.option("--resources", default=None, help="Comma-separated resources to run.")
@click.option(
    "--full-refresh",
    is_flag=True,
    help="Drop the selected resources' tables and state first (dlt's refresh drop_resources).",
)
@click.option(
    "--refresh",
    type=click.Choice(["drop_sources", "drop_resources", "drop_data"]),
    default=None,
    help="dlt's refresh mode: drop every table and all state, the selected resources' "
    "tables and state, or only empty their tables; in the load's transaction.",
)
@click.option("--base-url", default=None, help="Point the source at another base URL.")
@click.option("--quiet", "-q", is_flag=True, help="No progress display.")
@click.option("--json", "as_json", is_flag=True, help="Print the LoadInfo as JSON.")
def run(
    config: str,
    destination: str,
    dataset: str | None,
    pipeline_name: str | None,
    resources: str | None,
    full_refresh: bool,
    refresh: str | None,
    base_url: str | None,
    quiet: bool,
    as_json: bool,
) -> None:
    """Run CONFIG (a config file or a built-in connector's name) into a destination."""
    json_logs = bool((click.get_current_context().find_root().params or {}).get("json_logs"))
    try:
        with Interrupts():
            info = _run_pipeline(
                config,
                destination=destination,
                dataset=dataset,
                pipeline_name=pipeline_name,
                resources=_wanted(resources),
                full_refresh=full_refresh,
                refresh=refresh,
                base_url=base_url,
                live=not (quiet or as_json or json_logs),
            )
    except (KeyboardInterrupt, Exception) as exc:
        message, code = _run_failure(exc, destination)
        _fail(message, code)
        return
    sys.exit(_report(info, quiet=quiet, as_json=as_json))


def _wanted(resources: str | None) -> list[str] | None:
    """The resource names of `--resources` (comma-separated), None for all of them."""
    return [r.strip() for r in resources.split(",") if r.strip()] if resources else None


def _run_pipeline(
    config: str,
    *,
    destination: str,
    dataset: str | None,
    pipeline_name: str | None,
    resources: list[str] | None,
    full_refresh: bool,
    refresh: str | None,
    base_url: str | None,
    live: bool,
) -> Any:
    """Run CONFIG's source into `destination` and return its LoadInfo; with `live` (and a
    terminal on stderr) a progress table shows on stderr while it runs."""
    from restsync.pipeline import pipeline as make_pipeline

    progress: Any = None
    try:
        source = load_source(config, base_url=base_url)
        name = pipeline_name or getattr(source, "name", None) or Path(config).stem
        pipe = make_pipeline(name, destination=destination, dataset_name=dataset)
        if live and sys.stderr.isatty():
            from restsync.cli.progress import RichProgress

            progress = RichProgress(err)
            _log_above(err)  # log lines print above the live table, not through it
        return pipe.run(
            source,
            resources=resources,
            full_refresh=full_refresh,
            refresh=refresh,
            progress=progress,
        )
    except KeyboardInterrupt:
        if progress is not None:
            progress.stop("interrupted")
        raise
    finally:
        if progress is not None:
            progress.stop()


def _run_failure(exc: BaseException, destination: str) -> tuple[str, int]:
    """The message and exit code for a run that raised `exc` (nothing was loaded)."""
    if isinstance(exc, KeyboardInterrupt):
        return (
            f"interrupted: the requests were stopped and nothing was loaded; "
            f"{destination} is as it was before this run",
            EXIT_INTERRUPTED,
        )
    if isinstance(exc, ConfigError):
        return str(exc), EXIT_CONFIG
    if isinstance(exc, LoadError):
        return f"load failed: {exc}", EXIT_LOAD
    if isinstance(exc, ResourceError):
        return str(exc), EXIT_FAILED_RESOURCES
    # not a resource's failure: restsync itself broke (a crashed normalizer, a bug)
    logging.getLogger("restsync").debug("internal failure", exc_info=exc)
    return (
        f"internal failure, nothing was loaded: {type(exc).__name__}: {exc}\n"
        "  run again with -vv for the traceback, and report it",
        EXIT_INTERNAL,
    )


def _report(info: Any, *, quiet: bool, as_json: bool) -> int:
    """Print a run's LoadInfo as asked (and, quiet, its failures on stderr); its exit code."""
    if as_json:
        click.echo(redact_text(info.to_json()))
    elif not quiet:
        out.print(redact_text(str(info)), markup=False)
    if info.has_failures and (quiet or as_json):
        # --quiet/--json still say why the exit code is 1, on stderr
        for error in info.failed_resources.values():
            err.print(redact_text(error), markup=False)
    return EXIT_FAILED_RESOURCES if info.has_failures else EXIT_OK


@cli.command()
@click.argument("config")
@click.option("--probe", is_flag=True, help="Fetch the first page of each resource.")
@click.option("--base-url", default=None, help="Point the source at another base URL.")
def check(config: str, probe: bool, base_url: str | None) -> None:
    """Validate CONFIG and print the resolved plan (secrets masked)."""
    from restsync.cli.check import describe, run_probe

    try:
        source = load_source(config, base_url=base_url)
    except ConfigError as exc:
        _fail(str(exc), EXIT_CONFIG)
        return
    out.print(redact_text(describe(source)), markup=False)
    if probe:
        try:
            text, ok = run_probe(source)
        except KeyboardInterrupt:
            _fail("interrupted", EXIT_INTERRUPTED)
            return
        out.print(redact_text(text), markup=False)
        sys.exit(EXIT_OK if ok else EXIT_FAILED_RESOURCES)


@cli.command()
@click.option("--destination", default=None, help="Destination URL; default <pipeline>.duckdb.")
@click.option("--pipeline", "pipeline_name", default=None, help="Pipeline name.")
@click.option("--dataset", default=None, help="Dataset (schema) name.")
@click.option("--schema", "show_schema", is_flag=True, help="Print the stored schema (YAML).")
def show(
    destination: str | None, pipeline_name: str | None, dataset: str | None, show_schema: bool
) -> None:
    """Tables, row counts, last loads and incremental state of a pipeline's dataset.

    Without --pipeline, lists the datasets and pipelines the destination holds (and shows the
    only one). Reads only: nothing is created.
    """
    from restsync.cli.show import in_folder, show

    if not destination:
        if pipeline_name:
            destination = f"duckdb:///{Path.cwd() / (pipeline_name + '.duckdb')}"
        else:
            files = sorted({file for file, _ in in_folder(Path.cwd())})
            if len(files) != 1:
                there = ", ".join(f.name for f in files) or "no *.duckdb file here"
                _fail(
                    f"say which pipeline: --pipeline NAME or --destination URL ({there})",
                    EXIT_CONFIG,
                )
                return
            destination = f"duckdb:///{files[0]}"
    try:
        text = show(pipeline_name, destination, dataset, schema=show_schema)
    except RestsyncError as exc:
        _fail(str(exc), EXIT_CONFIG)
        return
    out.print(redact_text(text), markup=False)


@cli.command()
@click.argument("url", required=False)
@click.option("--openapi", "spec", default=None, help="An OpenAPI 3 document (file or URL).")
@click.option(
    "--auth",
    default=None,
    help="bearer[:SECRET], api_key[:SECRET[@header|query:NAME]] or basic[:USER,PASSWORD]: "
    "the secrets' names (their values are looked up, never written).",
)
@click.option("--name", default=None, help="Resource name (init URL); default from the path.")
@click.option("--base-url", default=None, help="The API's base URL (init --openapi).")
@click.option("-o", "--output", default=None, help="The file to write; default <name>.yaml.")
@click.option("--pages", default=3, show_default=True, help="Pages walked to prove a paginator.")
@click.option("--force", is_flag=True, help="Overwrite the output file.")
def init(
    url: str | None,
    spec: str | None,
    auth: str | None,
    name: str | None,
    base_url: str | None,
    output: str | None,
    pages: int,
    force: bool,
) -> None:
    """Write a ready-to-run, commented YAML config for URL (a live collection endpoint) or
    for every GET collection of an OpenAPI 3 document (--openapi SPEC)."""
    from restsync.cli.init import init_from_url
    from restsync.cli.init_openapi import init_from_openapi

    if bool(url) == bool(spec):
        _fail("give a collection URL or --openapi SPEC (one of them)", EXIT_CONFIG)
        return
    try:
        if spec:
            written = init_from_openapi(spec, base_url=base_url)
        else:
            assert url is not None
            written = init_from_url(url, auth=auth, name=name, pages=pages)
    except KeyboardInterrupt:
        _fail("interrupted: nothing was written", EXIT_INTERRUPTED)
        return
    except ConfigError as exc:
        _fail(str(exc), EXIT_CONFIG)
        return
    except RestsyncError as exc:
        _fail(f"cannot probe {url or spec}: {exc}", EXIT_FAILED_RESOURCES)
        return
    except Exception as exc:  # a spec that cannot be read, a connection refused
        _fail(f"cannot read {url or spec}: {type(exc).__name__}: {exc}", EXIT_CONFIG)
        return
    target = Path(output or f"{name or written.resources[0]['name']}.yaml")
    if spec and not output:
        target = Path(f"{Path(urlparse_path(spec)).stem or 'api'}.yaml")
    if target.exists() and not force:
        _fail(f"{target} exists; give --force to overwrite it, or -o FILE", EXIT_CONFIG)
        return
    target.write_text(written.yaml(), encoding="utf-8")
    names = ", ".join(r["name"] for r in written.resources)
    out.print(f"wrote {target}: {len(written.resources)} resources ({names})", markup=False)
    for resource in written.resources:
        for line in written.notes.get(resource["name"], []):
            out.print(f"  {resource['name']}: {line}", markup=False)
    out.print(f"next: restsync check {target} --probe   then   restsync run {target}", markup=False)


def urlparse_path(spec: str) -> str:
    """The path part of a spec's file name or URL (`.../openapi.json` -> `openapi.json`)."""
    from urllib.parse import urlsplit

    return urlsplit(spec).path if "://" in spec else spec


@cli.command()
def connectors() -> None:
    """List the built-in connectors."""
    from restsync.connectors import CONNECTORS, connector_module

    for name in CONNECTORS:
        module = connector_module(name)
        out.print(f"{name:12} {module.TITLE}  (secrets: {', '.join(module.SECRETS)})", markup=False)


@cli.command()
@click.argument("name")
@click.option("--port", default=0, show_default=True, help="Port on 127.0.0.1 (0: any free).")
@click.option("--records", default=None, type=int, help="Records per resource.")
@click.option("--faults", default=None, help='Fault switches, e.g. "429=0.1,500=0.05,slow=50ms".')
def sandbox(name: str, port: int, records: int | None, faults: str | None) -> None:
    """Run the sandbox API of connector NAME on loopback until interrupted."""
    _require_sandbox("sandbox")
    from restsync.sandbox import serve_forever

    try:
        serve_forever(name, port=port, records=records, faults=faults)
    except (ValueError, ConfigError) as exc:
        _fail(str(exc), EXIT_CONFIG)


@cli.command()
@click.argument("name", default="inventory")
@click.option("--records", default=None, type=int, help="Records per resource.")
@click.option("--destination", default=None, help="Default: ./demo_<name>.duckdb")
def demo(name: str, records: int | None, destination: str | None) -> None:
    """Sandbox API on loopback -> sync -> local DuckDB -> table summary."""
    _require_sandbox("demo")
    from restsync.cli.demo import run_demo

    try:
        code = run_demo(name, records=records, destination=destination, console=out)
    except ConfigError as exc:
        _fail(str(exc), EXIT_CONFIG)
        return
    sys.exit(code)


def main() -> None:
    """Entry point of the `restsync` console script."""
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    cli(prog_name="restsync")


if __name__ == "__main__":
    main()
