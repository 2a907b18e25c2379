"""Built-in reporters: the terminal report and the JSON report."""

from hygiene import hookimpl

from hygiene_plugins.reporters.console import ConsoleReporter
from hygiene_plugins.reporters.json_report import JsonReporter


@hookimpl
def hygiene_register_reporters():
    return [ConsoleReporter, JsonReporter]
