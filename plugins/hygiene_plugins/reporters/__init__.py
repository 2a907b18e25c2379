"""Built-in reporters: the terminal and JSON reports, and the formats CI systems and spreadsheets read."""

from hygiene import hookimpl

from hygiene_plugins.reporters.console import ConsoleReporter
from hygiene_plugins.reporters.csv_report import CsvReporter
from hygiene_plugins.reporters.github import GithubReporter
from hygiene_plugins.reporters.gitlab import GitlabReporter
from hygiene_plugins.reporters.json_report import JsonReporter
from hygiene_plugins.reporters.junit import JunitReporter
from hygiene_plugins.reporters.markdown import MarkdownReporter


@hookimpl
def hygiene_register_reporters():
    return [ConsoleReporter, JsonReporter, JunitReporter, GithubReporter, GitlabReporter, MarkdownReporter, CsvReporter]
