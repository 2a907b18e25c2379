"""The ``hygiene`` command line.

Heavy modules (polars, jsonschema, the plugins) are imported inside the
commands, so ``hygiene --help`` stays fast.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from pathlib import Path

import click

from hygiene import __version__
from hygiene.errors import HygieneError

DEBUG_KEY = "hygiene.debug"


class HygieneGroup(click.Group):
    """Turns :class:`HygieneError` into one line on stderr (the traceback with ``--debug``) and exit code 2."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except HygieneError as exc:
            click.echo(_traceback() if _debug(ctx) else f"hygiene: error: {exc}", err=True)
            raise click.exceptions.Exit(exc.exit_code) from None
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except Exception as exc:
            # --debug shows more, but must not change the exit code a CI job acts on (an escaping exception exits 1).
            message = f"hygiene: internal error: {type(exc).__name__}: {exc} (run with --debug for the traceback)"
            click.echo(_traceback() if _debug(ctx) else message, err=True)
            raise click.exceptions.Exit(2) from None


def _debug(ctx: click.Context) -> bool:
    # Read after the command ran: a subcommand's --debug is parsed inside super().invoke().
    return bool(ctx.meta.get(DEBUG_KEY) or os.environ.get("HYGIENE_DEBUG"))


def _traceback() -> str:
    import traceback

    return traceback.format_exc().rstrip()


def _set_debug(ctx: click.Context, _param, value: bool) -> bool:
    if value:
        ctx.meta[DEBUG_KEY] = True
    return value


def common_options(function):
    """``--debug`` and ``-p no:NAME`` on every command."""
    function = click.option(
        "-p",
        "plugin_flags",
        multiple=True,
        metavar="no:NAME",
        help="Do not load the plugin NAME (entry-point or distribution name). Repeatable.",
    )(function)
    return click.option(
        "--debug",
        is_flag=True,
        expose_value=False,
        is_eager=True,
        callback=_set_debug,
        help="Show tracebacks instead of one-line errors.",
    )(function)


def blocked_plugins(flags: tuple[str, ...]) -> list[str]:
    blocked = []
    for flag in flags:
        if not flag.startswith("no:") or len(flag) == 3:
            raise click.BadParameter(f"expected no:NAME, got {flag!r}", param_hint="-p")
        blocked.append(flag[3:])
    return blocked


def split_list(values: tuple[str, ...]) -> list[str]:
    """``--select HY001,HY002 --select stale-stage`` -> three entries."""
    return [item.strip() for value in values for item in value.split(",") if item.strip()]


@click.group(cls=HygieneGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="hygiene")
@click.option("--debug", is_flag=True, expose_value=False, is_eager=True, callback=_set_debug, help="Show tracebacks.")
def cli() -> None:
    """Audit a sales pipeline export for hygiene problems.

    Rules, sources and reporters are plugins; `hygiene rules` lists the
    rules, `hygiene explain RULE` documents one.
    """


def _load(config_path: str | None, plugin_flags: tuple[str, ...], *, strict: bool = True):
    """Read the configuration, load plugins (built-in, installed, configured) and validate."""
    from hygiene.session import load_session

    return load_session(config_path, blocked=blocked_plugins(plugin_flags), strict=strict)


def parse_as_of(value: str | None, configured: dt.date | None = None) -> dt.date:
    """The audit date: ``--as-of``, else the configuration's ``as_of``, else today."""
    if value is None:
        return configured or dt.date.today()  # the only place that reads the clock
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date in YYYY-MM-DD form", param_hint="--as-of") from None


@cli.command()
@click.argument("source", required=False)
@click.option("-c", "--config", "config_path", type=click.Path(dir_okay=False), help="Configuration file (default: ./hygiene.toml when present).")
@click.option("--as-of", "as_of", metavar="YYYY-MM-DD", help="Audit date (default: the config's as_of, else today).")
@click.option(
    "-f",
    "--format",
    "formats",
    multiple=True,
    metavar="NAME[:PATH]",
    help="Reporter, optionally writing to PATH. Repeatable: --format console --format json:report.json",
)
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write the (single) report to this file instead of stdout.")
@click.option("--select", multiple=True, metavar="RULES", help="Only these rule codes, prefixes or names (comma-separated; replaces the config's select).")
@click.option("--ignore", multiple=True, metavar="RULES", help="Skip these rule codes, prefixes or names (adds to the config's ignore).")
@click.option("--fail-on", type=click.Choice(["error", "warning", "info", "never"]), help="Lowest severity that makes the exit code 1 (default: error).")
@common_options
def audit(source, config_path, as_of, formats, output, select, ignore, fail_on, plugin_flags):
    """Audit SOURCE (or the configured [source] path) and report findings.

    Exit codes: 0 no finding at or above --fail-on, 1 such findings, 2
    unusable input, configuration or plugin.
    """
    from hygiene.audit import AuditOptions, run_audit
    from hygiene.output import write_reports

    session = _load(config_path, plugin_flags)
    options = AuditOptions(
        as_of=parse_as_of(as_of, session.config.as_of),
        source_path=source,
        select=split_list(select) or None,
        ignore=tuple(split_list(ignore)),
    )
    report = run_audit(session.config, session.registry, options)
    write_reports(report, session.registry, formats or ("console",), output)
    sys.exit(report.exit_code(fail_on or session.config.fail_on))


@cli.command("rules")
@click.option("-c", "--config", "config_path", type=click.Path(dir_okay=False), help="Configuration file (adds its local plugins and severities).")
@common_options
def rules_command(config_path, plugin_flags):
    """List the available rules: code, name, severity, summary, plugin."""
    from hygiene.session import rule_rows

    session = _load(config_path, plugin_flags)
    rows = rule_rows(session)
    widths = [max(len(str(r[i])) for r in rows) for i in range(4)]
    for row in rows:
        click.echo("  ".join(str(cell).ljust(width) for cell, width in zip(row[:4], widths)) + "  " + row[4])


@cli.command()
@click.argument("rule")
@click.option("-c", "--config", "config_path", type=click.Path(dir_okay=False))
@common_options
def explain(rule, config_path, plugin_flags):
    """Show a rule's documentation and options."""
    from hygiene.explain import explain_rule

    session = _load(config_path, plugin_flags)
    click.echo(explain_rule(session.registry, rule))


@cli.command()
@click.option("-c", "--config", "config_path", type=click.Path(dir_okay=False))
@common_options
def plugins(config_path, plugin_flags):
    """Show loaded plugins, their versions, hooks and what each registers."""
    from hygiene.explain import describe_plugins

    session = _load(config_path, plugin_flags, strict=False)
    click.echo(describe_plugins(session.registry))


@cli.command()
@click.argument("export", required=False, type=click.Path(dir_okay=False))
@click.option("-o", "--output", default="hygiene.toml", show_default=True, type=click.Path(dir_okay=False))
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
@common_options
def init(export, output, force, plugin_flags):
    """Write a starter hygiene.toml, guessing [source.fields] from EXPORT's header."""
    from hygiene.starter import write_starter_config

    starter = write_starter_config(Path(output), Path(export) if export else None, force=force, blocked=blocked_plugins(plugin_flags))
    click.echo(f"wrote {starter.path}\nnext steps:")
    for step in starter.next_steps:
        click.echo(f"  - {step}")


def main() -> None:
    cli(prog_name="hygiene")
