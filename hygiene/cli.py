"""The ``hygiene`` command line.

Heavy modules (polars, jsonschema, the plugins) are imported inside the
commands, so ``hygiene --help`` stays fast.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from pathlib import Path

import attrs
import click

from hygiene import __version__
from hygiene.api.errors import HygieneError
from hygiene.api.escaping import terminal_text
from hygiene.ci.baseline import DEFAULT_BASELINE

DEBUG_KEY = "hygiene.debug"


class HygieneGroup(click.Group):
    """Turns :class:`HygieneError` into one line on stderr (the traceback with ``--debug``) and exit code 2."""

    def invoke(self, ctx: click.Context):
        from hygiene.files import begin_run

        begin_run()
        try:
            return super().invoke(ctx)
        except HygieneError as exc:
            # Errors quote file names and values from files: shown with their control characters escaped.
            click.echo(_traceback() if _debug(ctx) else f"hygiene: error: {terminal_text(exc)}", err=True)
            raise click.exceptions.Exit(exc.exit_code) from None
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except Exception as exc:
            # --debug shows more, but must not change the exit code a CI job acts on (an escaping exception exits 1).
            message = f"hygiene: internal error: {type(exc).__name__}: {terminal_text(exc)} (run with --debug for the traceback)"
            click.echo(_traceback() if _debug(ctx) else message, err=True)
            raise click.exceptions.Exit(2) from None
        except KeyboardInterrupt:
            # Ctrl-C: the writers have removed their temporary files; exit as an interrupted program does (128 + SIGINT).
            click.echo("hygiene: interrupted", err=True)
            raise click.exceptions.Exit(130) from None
        except (SystemExit, GeneratorExit):
            raise
        except BaseException as exc:
            # A polars panic (pyo3's PanicException) derives from BaseException, not Exception.
            reason = (str(exc).strip().splitlines() or [""])[0]
            message = f"hygiene: internal error: {type(exc).__name__}: {terminal_text(reason)} (run with --debug for the traceback)"
            click.echo(_traceback() if _debug(ctx) else message, err=True)
            raise click.exceptions.Exit(2) from None


def _debug(ctx: click.Context) -> bool:
    # Read after the command ran: a subcommand's --debug is parsed inside super().invoke().
    return bool(ctx.meta.get(DEBUG_KEY) or os.environ.get("HYGIENE_DEBUG"))


def _terminal_lines(text: str) -> str:
    """Text of several lines that quotes plugins and configuration (a custom rule's condition): each line escaped."""
    return "\n".join(terminal_text(line) for line in text.split("\n"))


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
    from hygiene.commands.session import load_session

    return load_session(config_path, blocked=blocked_plugins(plugin_flags), strict=strict)


def _load_or_guess(config_path: str | None, plugin_flags: tuple[str, ...], source: str | None):
    """The session of ``--config`` or ./hygiene.toml; without either, one guessed from SOURCE as ``hygiene init`` would."""
    from hygiene.commands.session import find_config, guessed_session

    if find_config(config_path)[0] is None and source is not None:
        session, guess = guessed_session(Path(source), blocked=blocked_plugins(plugin_flags))
        if guess.guessed_anything:
            chosen = f"guessed preset {guess.preset}" if guess.preset else "guessed the columns and formats (no preset matched)"
            click.echo(f"hygiene: no hygiene.toml: {chosen}; run hygiene init to keep and edit these settings", err=True)
        return session
    return _load(config_path, plugin_flags)


def parse_as_of(value: str | None, configured: dt.date | None = None) -> dt.date:
    """The audit date: ``--as-of``, else the configuration's ``as_of``, else today."""
    if value is None:
        return configured or dt.date.today()  # the only place that reads the clock
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date in YYYY-MM-DD form", param_hint="--as-of") from None


def audit_input_options(function):
    """What to audit, and how: SOURCE, ``--config``, ``--as-of``, ``--select``, ``--ignore``."""
    for option in reversed(
        [
            click.argument("source", required=False),
            click.option("-c", "--config", "config_path", type=click.Path(dir_okay=False), help="Configuration file (default: ./hygiene.toml when present)."),
            click.option("--as-of", "as_of", metavar="YYYY-MM-DD", help="Audit date (default: the config's as_of, else today)."),
            click.option("--select", multiple=True, metavar="RULES", help="Only these rule codes, prefixes or names (comma-separated; replaces the config's select)."),
            click.option("--ignore", multiple=True, metavar="RULES", help="Skip these rule codes, prefixes or names (adds to the config's ignore)."),
        ]
    ):
        function = option(function)
    return function


def audit_options(session, source, as_of, select, ignore):
    """The :class:`~hygiene.audit.run.AuditOptions` of the :func:`audit_input_options` a command received."""
    from hygiene.audit.run import AuditOptions

    return AuditOptions(
        as_of=parse_as_of(as_of, session.config.as_of),
        source_path=source,
        select=split_list(select) or None,
        ignore=tuple(split_list(ignore)),
    )


def _history_shown(registry, formats) -> str:
    """What of the history figures the requested reports show (``--format NAME[:PATH]``; an unknown name stops the run here)."""
    from hygiene.api.reporter import history_needed
    from hygiene.audit.reporting import parse_format

    return history_needed(registry.reporters[parse_format(spec, registry)[0]].cls.shows_history for spec in formats)


def _min_score(_ctx, _param, value: str | None):
    from hygiene.ci.gates import parse_min_score

    if value is None:
        return None
    try:
        return parse_min_score(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


FAIL_ON_CHOICE = click.Choice(["error", "warning", "info", "never"])


def presentation_options(function):
    """``--owner``/``--team``/``--manager`` (who the reports are about), ``--color`` and ``--rows-per-view``."""
    for option in reversed(
        [
            click.option("--owner", "owners", multiple=True, metavar="GLOB", help="Only deals of owners matching GLOB (case-insensitive; repeatable)."),
            click.option("--team", "teams", multiple=True, metavar="GLOB", help="Only deals of teams matching GLOB (repeatable)."),
            click.option("--manager", "managers", multiple=True, metavar="GLOB", help="Only deals of managers matching GLOB (repeatable)."),
            click.option("--color", "colour", type=click.Choice(["auto", "always", "never"]), default=None, help="Colour in the console report (auto: on a terminal, unless NO_COLOR is set; default: [report] color, else auto)."),
            click.option("--rows-per-view", type=click.IntRange(min=1), default=None, metavar="N", help="Rows per table in the HTML report before it points to the JSON/CSV report (default: [report] rows_per_view, else 200)."),
        ]
    ):
        function = option(function)
    return function


def report_scope(owners, teams, managers):
    from hygiene.api.scope import ReportScope

    return ReportScope(owners=tuple(owners), teams=tuple(teams), managers=tuple(managers))


def reporter_settings(colour, rows_per_view, config=None):
    """How reporters write: the command line's ``--color`` and ``--rows-per-view``, else ``[report]``, else the defaults."""
    from hygiene.api.reporter import DEFAULT_ROWS_PER_VIEW, ReporterSettings

    configured = config.report if config is not None else None
    return ReporterSettings(
        colour=colour or (configured.color if configured is not None else None) or "auto",
        rows_per_view=rows_per_view or (configured.rows_per_view if configured is not None else None) or DEFAULT_ROWS_PER_VIEW,
    )


@cli.command()
@audit_input_options
@click.option(
    "-f",
    "--format",
    "formats",
    multiple=True,
    metavar="NAME[:PATH]",
    help="Reporter, optionally writing to PATH. Repeatable: --format console --format json:report.json",
)
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write the (single) report to this file instead of stdout.")
@click.option("--fail-on", type=FAIL_ON_CHOICE, help="Lowest severity that makes the exit code 1 (default: error).")
@click.option("--baseline", "baseline_path", metavar="FILE", type=click.Path(dir_okay=False), help="Findings recorded in FILE (by `hygiene baseline`) are known: reported, not counted for --fail-on.")
@click.option("--strict-baseline", is_flag=True, default=None, help="Also fail while the baseline lists findings no longer found (remove them with `hygiene baseline --prune`; config: strict_baseline).")
@click.option("--max-findings", type=click.IntRange(min=0), metavar="N", help="Fail only when more than N findings reach --fail-on (default: the config's max_findings, else 0).")
@click.option("--min-score", metavar="PERCENT", callback=_min_score, help="Fail when the hygiene score is below PERCENT (0-100, e.g. 80; config: min_score).")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when findings fail a gate (rule errors and unusable input still exit 2).")
@click.option(
    "--show",
    type=click.Choice(["all", "new"]),
    default="all",
    show_default=True,
    help="Findings the console lists: all, or only those the baseline does not know (needs --baseline); the summary counts all.",
)
@click.option("--forecast/--no-forecast", "with_forecast", default=None, help="Add the forecast (as `hygiene forecast` computes it) to the JSON, Markdown and HTML reports (config: [forecast] in_audit).")
@presentation_options
@common_options
def audit(
    source, config_path, as_of, select, ignore, formats, output, fail_on, baseline_path, strict_baseline, max_findings, min_score, exit_zero,
    show, with_forecast, owners, teams, managers, colour, rows_per_view, plugin_flags,
):
    """Audit SOURCE (or the configured [source] path) and report findings.

    Exit codes: 0 every gate passes, 1 a gate fails (findings at or above
    --fail-on that the baseline does not know, --max-findings,
    --min-score, --strict-baseline), 2 unusable input, configuration or
    plugin, or a rule that raised (even with --exit-zero). With --owner,
    --team or --manager every report, and the gates, see only those deals.
    """
    from hygiene.audit.reporting import write_reports
    from hygiene.audit.run import run_audit
    from hygiene.ci.baseline import compare_with_baseline, read_baseline
    from hygiene.ci.gates import Gates
    from hygiene.commands.progress import slow_load_notice

    if strict_baseline and baseline_path is None:
        raise click.UsageError("--strict-baseline needs --baseline FILE")
    if show == "new" and baseline_path is None:
        raise click.UsageError("--show new needs --baseline FILE")
    session = _load_or_guess(config_path, plugin_flags, source)
    gates = Gates.from_config(
        session.config, fail_on=fail_on, max_findings=max_findings, min_score=min_score, strict_baseline=strict_baseline, exit_zero=exit_zero
    )
    # A baseline that cannot be used stops the run before the audit, not after it.
    recorded = read_baseline(Path(baseline_path), baseline_path) if baseline_path is not None else None
    formats = formats or ("console",)
    options = attrs.evolve(
        audit_options(session, source, as_of, select, ignore),
        record_run=True,
        recorded_at=_now(),
        forecast=with_forecast,
        history_figures=_history_shown(session.registry, formats),
        scope=report_scope(owners, teams, managers),
    )
    with slow_load_notice(source or session.config.source.path):
        report = run_audit(session.config, session.registry, options)
    if recorded is not None:
        report = compare_with_baseline(report, recorded, baseline_path)
    report = options.scope.apply(report)
    report.show = show
    write_reports(report, session.registry, formats, output, settings=reporter_settings(colour, rows_per_view, session.config))
    exit_code = gates.exit_code(report)
    if exit_code == 1:
        for failure in gates.failures(report):
            click.echo(f"hygiene: {terminal_text(failure)}", err=True)
    sys.exit(exit_code)


@cli.command()
@audit_input_options
@click.option("-o", "--output", default=DEFAULT_BASELINE, show_default=True, type=click.Path(dir_okay=False), help="The baseline file.")
@click.option("--prune", is_flag=True, help="Only remove from the existing baseline what is no longer found, and the entries of rules no longer run; never add a finding.")
@click.option("--add", "add_rules", multiple=True, metavar="RULE", help="Adopt a rule (code or name; repeatable): record its current findings in the existing baseline, leaving the rest as it was.")
@common_options
def baseline(source, config_path, as_of, select, ignore, output, prune, add_rules, plugin_flags):
    """Record the current findings as known, so `hygiene audit --baseline` fails only on new ones.

    Commit the file. With --prune, rewrite it keeping only the entries still
    found (run it when --strict-baseline fails). With --add RULE, adopt a
    rule added since the baseline was written: its current findings become
    known, the rest of the baseline stays as it was.
    """
    from hygiene.api.presentation import plural
    from hygiene.audit.run import run_audit
    from hygiene.ci.baseline import Baseline, adopted, pruned, read_baseline, refuse_incomplete, resolve_rules, write_baseline

    if prune and add_rules:
        raise click.UsageError("--prune and --add do different things: run one, then the other")
    session = _load(config_path, plugin_flags)
    previous = read_baseline(Path(output), output) if prune or add_rules else None
    # A baseline records findings, nothing of the reports' history.
    options = attrs.evolve(audit_options(session, source, as_of, select, ignore), history_figures="none")
    report = run_audit(session.config, session.registry, options)
    refuse_incomplete(report, output)
    if add_rules:
        codes = resolve_rules(report, add_rules, output)
        grown = adopted(previous, report, codes)
        write_baseline(grown, Path(output), replaces=Path(output))
        added = grown.findings - sum(entry.count for entry in previous.entries.values() if entry.code not in codes)
        click.echo(f"updated {terminal_text(output)}: {plural(added, 'finding')} of {', '.join(codes)} recorded as known, {grown.findings} in all")
        return
    if previous is None:
        written = Baseline.from_report(report)
        write_baseline(written, Path(output))
        click.echo(f"wrote {terminal_text(output)}: {plural(written.findings, 'finding')} recorded as known")
        return
    kept = pruned(previous, report, output)
    if kept is previous:
        click.echo(f"{terminal_text(output)}: nothing to prune ({plural(previous.findings, 'finding')} still found)")
        return
    write_baseline(kept, Path(output), replaces=Path(output))
    obsolete = previous.obsolete_entries(report)
    dropped = sum(entry.count for entry in obsolete.values())
    removed = plural(previous.findings - kept.findings - dropped, "fixed finding")
    if obsolete:
        rules = ", ".join(sorted({entry.code for entry in obsolete.values()}))
        removed += f" and {plural(dropped, 'finding')} of rules no longer run ({terminal_text(rules)})"
    click.echo(f"pruned {terminal_text(output)}: removed {removed}, {kept.findings} remain")


@cli.command()
@audit_input_options
@click.option("--by", "by", type=click.Choice(["owner", "team", "manager"]), default="owner", show_default=True, help="One digest per owner, team or manager.")
@click.option("-f", "--format", "output_format", type=click.Choice(["markdown", "html"]), default="markdown", show_default=True)
@click.option("--output-dir", required=True, type=click.Path(file_okay=False), help="Folder for the digests and their index (created when missing).")
@click.option("--rows-per-view", type=click.IntRange(min=1), default=None, metavar="N", help="Rows per table in HTML digests (default: [report] rows_per_view, else 200).")
@common_options
def digest(source, config_path, as_of, select, ignore, by, output_format, output_dir, rows_per_view, plugin_flags):
    """Write one private report per owner, team or manager into --output-dir, and an index.

    Each file holds only that group's deals (a rep's digest never shows
    another rep's deals); file names are safe ASCII with a short hash.
    Exit codes: 0 written, 2 unusable input or configuration.
    """
    from hygiene.audit.run import run_audit
    from hygiene.commands.digest import write_digests
    from hygiene.commands.progress import slow_load_notice

    session = _load(config_path, plugin_flags)
    with slow_load_notice(source or session.config.source.path):
        options = audit_options(session, source, as_of, select, ignore)
        if output_format in session.registry.reporters:
            options = attrs.evolve(options, history_figures=session.registry.reporters[output_format].cls.shows_history)
        report = run_audit(session.config, session.registry, options)
    folder = Path(output_dir)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        entries = write_digests(report, session.registry, by, output_format, folder, reporter_settings("never", rows_per_view, session.config))
    except OSError as exc:
        raise HygieneError(f"{output_dir}: cannot write the digests: {exc.strerror or exc}") from None
    index = "index.md" if output_format == "markdown" else "index.html"
    click.echo(f"wrote {len(entries)} {by} digest{'s' if len(entries) != 1 else ''} and {index} to {output_dir}")


@cli.command()
@click.argument("old", type=click.Path(dir_okay=False))
@click.argument("new", type=click.Path(dir_okay=False))
@click.option("-f", "--format", "output_format", type=click.Choice(["console", "json"]), default="console", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write to this file instead of stdout.")
@click.option("--fail-on", type=FAIL_ON_CHOICE, default="error", show_default=True, help="Lowest severity of a new finding that makes the exit code 1.")
def diff(old, new, output_format, output, fail_on):
    """New, fixed and changed findings between two JSON reports (`hygiene audit --format json`).

    Findings are paired by fingerprint. Exit codes: 0 no new finding at or
    above --fail-on, 1 such findings, 2 a report that cannot be read.
    """
    from hygiene.ci.diff import diff_reports, read_report, write_diff

    result = diff_reports(read_report(Path(old), old), read_report(Path(new), new))
    if output is None:
        write_diff(result, output_format, sys.stdout)
    else:
        from hygiene.files import atomic_text_writer

        try:
            with atomic_text_writer(Path(output), what="the diff", display=output) as stream:
                write_diff(result, output_format, stream)
        except OSError as exc:
            raise HygieneError(f"{output}: cannot write the diff: {exc.strerror or exc}") from None
    sys.exit(result.exit_code(fail_on))


@cli.command()
@click.argument("source", required=False)
@click.option("-c", "--config", "config_path", type=click.Path(dir_okay=False), help="Configuration file (default: ./hygiene.toml when present).")
@click.option("--as-of", "as_of", metavar="YYYY-MM-DD", help="Forecast date (default: the config's as_of, else today).")
@click.option("--by", type=click.Choice(["owner", "team", "manager", "region"]), default="owner", show_default=True, help="Group the cycle, velocity and forecast by this field.")
@click.option("-f", "--format", "output_format", type=click.Choice(["console", "json", "markdown", "html"]), default="console", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write to this file (atomically) instead of stdout.")
@common_options
def forecast(source, config_path, as_of, by, output_format, output, plugin_flags):
    """Win rates, sales cycle, velocity, the period's forecast three ways, calibration and lead-generation need.

    Computed from the closed deals of SOURCE (or the configured [source]
    path) in the trailing [forecast] window. With a history store, also
    stage conversion, the stage funnel, forecast accuracy of past periods
    and the rule backtest. --format html writes one self-contained page.
    Exit codes: 0 done, 2 unusable input or configuration.
    """
    from hygiene.commands.forecast import forecast_document, render

    session = _load(config_path, plugin_flags)
    document = forecast_document(session, source, parse_as_of(as_of, session.config.as_of), by)
    text = render(document, output_format)
    if output is None:
        click.echo(text, nl=False)
        return
    from hygiene.files import atomic_text_writer

    try:
        with atomic_text_writer(Path(output), what="the forecast", display=output) as stream:
            stream.write(text)
    except OSError as exc:
        raise HygieneError(f"{output}: cannot write the forecast: {exc.strerror or exc}") from None


@cli.command("rules")
@click.option("-c", "--config", "config_path", type=click.Path(dir_okay=False), help="Configuration file (adds its local plugins and severities).")
@click.option("--group", "groups", multiple=True, metavar="GROUP", help="Only the rules of this group (repeatable, or comma-separated): activity, forecast, 'next steps' ...")
@common_options
def rules_command(config_path, groups, plugin_flags):
    """List the available rules: code, name, severity, plugin, group, summary."""
    from hygiene.commands.session import rule_rows

    session = _load(config_path, plugin_flags)
    # Custom rules' names and summaries come from a configuration file.
    rows = [[terminal_text(cell) for cell in row] for row in rule_rows(session, split_list(groups))]
    widths = [max(len(str(r[i])) for r in rows) for i in range(5)]
    for row in rows:
        click.echo("  ".join(str(cell).ljust(width) for cell, width in zip(row[:5], widths)) + "  " + row[5])


@cli.command()
@click.argument("rule")
@click.option("-c", "--config", "config_path", type=click.Path(dir_okay=False))
@click.option("--color", "colour", type=click.Choice(["auto", "always", "never"]), default=None, help="Render headings, emphasis and code for a terminal (auto: when stdout is one, unless NO_COLOR is set; default: [report] color, else auto); otherwise print the Markdown source.")
@common_options
def explain(rule, config_path, colour, plugin_flags):
    """Show a rule's documentation and options."""
    from hygiene.commands.explain import explain_rule
    from hygiene.commands.terminal_text import render_for_terminal

    session = _load(config_path, plugin_flags)
    text = _terminal_lines(explain_rule(session.registry, rule))
    if reporter_settings(colour, None, session.config).wants_colour(sys.stdout):
        click.echo(render_for_terminal(text), color=True)
    else:
        click.echo(text)


@cli.command()
@click.option("-c", "--config", "config_path", type=click.Path(dir_okay=False))
@common_options
def plugins(config_path, plugin_flags):
    """Show loaded plugins, their versions, hooks and what each registers."""
    from hygiene.commands.explain import describe_plugins

    session = _load(config_path, plugin_flags, strict=False)
    click.echo(_terminal_lines(describe_plugins(session.registry)))


@cli.command()
@click.argument("export", required=False, type=click.Path(dir_okay=False))
@click.option("-o", "--output", default="hygiene.toml", show_default=True, type=click.Path(dir_okay=False))
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
@click.option("--roster", type=click.Path(dir_okay=False), help="A roster of owners (team, manager, region, quota ...) to join: [roster].")
@click.option("--lookup", "lookups", multiple=True, type=click.Path(dir_okay=False), help="A file of ids and names (e.g. Account.csv) to join onto the export's id column: [[source.lookups]]. Repeatable.")
@common_options
def init(export, output, force, roster, lookups, plugin_flags):
    """Write a hygiene.toml that audits EXPORT as it is: its CRM preset, fields, stages, roster and lookups.

    The preset is recognised from the header; every stage the export holds
    is listed with its deal count; what could not be decided is printed and
    written as comments. Exit code 2 when the export has no id column.
    """
    from hygiene.commands.init import write_starter_config

    if export is None and (roster or lookups):
        raise click.UsageError("--roster and --lookup need an EXPORT")
    starter = write_starter_config(
        Path(output),
        Path(export) if export else None,
        force=force,
        blocked=blocked_plugins(plugin_flags),
        roster=Path(roster) if roster else None,
        lookups=[Path(lookup) for lookup in lookups],
    )
    # The steps quote the export's column names.
    click.echo(f"wrote {terminal_text(starter.path)}\nnext steps:")
    for step in starter.next_steps:
        click.echo(f"  - {terminal_text(step)}")


@cli.group("plugin")
def plugin_group() -> None:
    """Write your own plugin: `hygiene plugin new NAME`."""


@plugin_group.command("new")
@click.argument("name")
@click.option("--directory", type=click.Path(file_okay=False), help="Where to write it (default: ./NAME); must not exist or be empty.")
@click.option("--prefix", metavar="CODE_PREFIX", help="The rules' code prefix, e.g. ACME for ACME001 (default: from NAME).")
@click.option("--debug", is_flag=True, expose_value=False, is_eager=True, callback=_set_debug, help="Show tracebacks instead of one-line errors.")
def plugin_new(name, directory, prefix):
    """Start the plugin distribution NAME: one rule, its rule cases and tests, a README.

    Never overwrites anything. Its tests pass as written:
    `pip install -e "./NAME[test]"` then `python -m pytest NAME`.
    """
    from hygiene.commands.plugin_new import write_plugin

    created = write_plugin(name, Path(directory) if directory else None, prefix)
    folder = created.directory.as_posix()
    # pip reads a bare name as a package to download; a path must look like one.
    local = folder if created.directory.is_absolute() else f"./{folder}"
    click.echo(f"wrote {folder}/ ({created.names.distribution}, rule {created.names.code}):")
    for path in created.files:
        click.echo(f"  {path.relative_to(created.directory).as_posix()}")
    click.echo(f"next steps:\n  - pip install -e \"{local}[test]\"\n  - python -m pytest {folder}")


def _now() -> str:
    """When a command ran (UTC), for the history store's records; no report depends on it."""
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()


def _date_option(value: str | None, option: str) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date in YYYY-MM-DD form", param_hint=option) from None


@cli.group("snapshot")
def snapshot_group() -> None:
    """The history store: add exports as dated snapshots, list, prune, show, import CRM history."""


@snapshot_group.command("add")
@click.argument("export", required=False)
@click.option("-c", "--config", "config_path", type=click.Path(dir_okay=False), help="Configuration file (default: ./hygiene.toml when present).")
@click.option("--date", "date", metavar="YYYY-MM-DD", help="The snapshot's date (default: a YYYY-MM-DD in the file name, else the config's as_of, else today).")
@common_options
def snapshot_add(export, config_path, date, plugin_flags):
    """Add EXPORT (or the configured [source] path) to the store as the snapshot of its date.

    The export is read exactly as for an audit. Adding a date again replaces
    that snapshot; an older date is a backfill.
    """
    from hygiene.commands.history import add_snapshot

    session = _load(config_path, plugin_flags)
    changes, store = add_snapshot(session.config, session.registry, export, _date_option(date, "--date"), added_at=_now(), today=dt.date.today())
    click.echo(describe_changes(changes, store))


def describe_changes(changes, store: str) -> str:
    from hygiene.api.presentation import plural

    verb = "replaced" if changes.replaced else "added"
    head = f"{verb} snapshot {changes.date.isoformat()} ({plural(changes.deals, 'deal')}) in {store}"
    if changes.previous is None:
        return f"{head}\n  no earlier snapshot: {plural(changes.new, 'new deal')}"
    return (
        f"{head}\n  since {changes.previous.isoformat()}: {changes.new} new, {changes.changed} changed, "
        f"{changes.closed} closed, {changes.removed} removed"
    )


@snapshot_group.command("list")
@click.option("-c", "--config", "config_path", type=click.Path(dir_okay=False))
@common_options
def snapshot_list(config_path, plugin_flags):
    """Every snapshot, oldest first: date, kind, deals, source, SHA-256 of the export."""
    from hygiene.history.snapshots import open_store

    session = _load(config_path, plugin_flags)
    with open_store(session.config) as store:
        rows = store.snapshots()
        click.echo(f"{store.location.display}: {len(rows)} snapshot{'s' if len(rows) != 1 else ''}")
        for row in rows:
            click.echo(f"  {row.date.isoformat()}  {row.kind:<6}  {row.row_count:>9,} deals  {row.source}  {(row.sha256 or '')[:12]}")


@snapshot_group.command("prune")
@click.option("-c", "--config", "config_path", type=click.Path(dir_okay=False))
@click.option("--keep", type=click.IntRange(min=1), required=True, metavar="N", help="Keep the N newest snapshots; remove the older ones.")
@common_options
def snapshot_prune(config_path, keep, plugin_flags):
    """Remove the oldest snapshots, keeping the newest N."""
    from hygiene.history.snapshots import open_store

    session = _load(config_path, plugin_flags)
    with open_store(session.config) as store:
        removed = store.prune(keep)
    if removed:
        click.echo(f"removed {len(removed)} snapshot{'s' if len(removed) != 1 else ''}: {removed[0].isoformat()} to {removed[-1].isoformat()}")
    else:
        click.echo(f"nothing to prune ({keep} or fewer snapshots)")


@snapshot_group.command("show")
@click.option("-c", "--config", "config_path", type=click.Path(dir_okay=False))
@click.option("--date", "date", metavar="YYYY-MM-DD", required=True, help="The date to reconstruct (any date: the snapshot on or before it).")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="FILE.csv, FILE.json or FILE.parquet.")
@common_options
def snapshot_show(config_path, date, output, plugin_flags):
    """Write the deals as the store saw them on a date, in canonical fields (extras as JSON)."""
    from hygiene.history.snapshots import open_store
    from hygiene.history.tables import write_table

    session = _load(config_path, plugin_flags)
    day = _date_option(date, "--date")
    with open_store(session.config) as store:
        frame = store.deals_as_of(day)
    write_table(frame, Path(output), output)
    click.echo(f"wrote {output}: {frame.height:,} deals as of {day.isoformat()}")


@snapshot_group.command("import")
@click.argument("file")
@click.option("-c", "--config", "config_path", type=click.Path(dir_okay=False))
@click.option("--format", "history_format", required=True, type=click.Choice(["salesforce-opportunity-history", "salesforce-field-history"]), help="The CRM change log's format.")
@common_options
def snapshot_import(file, config_path, history_format, plugin_flags):
    """Import a CRM change log as history: one snapshot per date on which something changed."""
    from hygiene.history.crm_history import import_history
    from hygiene.history.store import open_configured_store

    session = _load(config_path, plugin_flags)
    with open_configured_store(session.config, create=True) as store:
        result = import_history(store, Path(file), file, history_format, added_at=_now())
    click.echo(f"imported {file}: {result.deals:,} deals, {result.changes:,} changes on {result.dates:,} dates ({result.first} to {result.last})")


def _stages(session):
    from hygiene.audit.run import stage_table

    return stage_table(session.config)


def _emit(text: str, output: str | None) -> None:
    if output is None:
        click.echo(text, nl=False)
        return
    from hygiene.files import atomic_text_writer

    try:
        with atomic_text_writer(Path(output)) as stream:
            stream.write(text)
    except OSError as exc:
        raise HygieneError(f"{output}: cannot write: {exc.strerror or exc}") from None


HISTORY_FORMATS = click.Choice(["console", "json", "markdown"])


@cli.command()
@click.option("--from", "start", metavar="YYYY-MM-DD", required=True, help="The first snapshot's date.")
@click.option("--to", "end", metavar="YYYY-MM-DD", required=True, help="The second snapshot's date.")
@click.option("--by", type=click.Choice(["owner", "team"]), help="Also one waterfall per owner or team.")
@click.option("-c", "--config", "config_path", type=click.Path(dir_okay=False))
@click.option("-f", "--format", "output_format", type=HISTORY_FORMATS, default="console", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write to this file instead of stdout.")
@common_options
def flow(start, end, by, config_path, output_format, output, plugin_flags):
    """The open-pipeline waterfall between two snapshots, in deals and amount.

    beginning + created + increased - decreased - won - lost - removed = ending,
    exactly; pushed and pulled-in deals are shown beside it.
    """
    from hygiene.history.flow import pipeline_flow
    from hygiene.history.render import render_flow
    from hygiene.history.snapshots import open_store

    session = _load(config_path, plugin_flags)
    with open_store(session.config) as store:
        data = pipeline_flow(store, _date_option(start, "--from"), _date_option(end, "--to"), _stages(session), by)
    _emit(render_flow(data, output_format), output)


@cli.command()
@click.option("-c", "--config", "config_path", type=click.Path(dir_okay=False))
@click.option("-f", "--format", "output_format", type=HISTORY_FORMATS, default="console", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write to this file instead of stdout.")
@common_options
def trend(config_path, output_format, output, plugin_flags):
    """Per recorded audit run: hygiene score, open pipeline, amount at risk and findings per rule."""
    from hygiene.history.render import render_trend, trend_data
    from hygiene.history.snapshots import open_store

    session = _load(config_path, plugin_flags)
    with open_store(session.config) as store:
        data = trend_data(store)
    _emit(render_trend(data, output_format), output)


@cli.command("deals")
@audit_input_options
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="FILE.csv, FILE.json or FILE.parquet.")
@common_options
def deals_command(source, config_path, as_of, select, ignore, output, plugin_flags):
    """Write the deal table exactly as the rules see it: canonical fields, history's derived fields, extras,
    and a <field>_source column per derivable field (export, history or history-lower-bound)."""
    from hygiene.commands.history import deal_table
    from hygiene.history.tables import write_table

    session = _load(config_path, plugin_flags)
    options = audit_options(session, source, as_of, select, ignore)
    frame = deal_table(session.config, session.registry, options)
    write_table(frame, Path(output), output)
    click.echo(f"wrote {output}: {frame.height:,} deals as of {options.as_of.isoformat()}")


def main() -> None:
    cli(prog_name="hygiene")
