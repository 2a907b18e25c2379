"""Built-in reporters: the terminal and JSON reports, the formats CI systems and spreadsheets read, and the HTML page and workbook people read."""

from hygiene import hookimpl

from hygiene_plugins.reporters.console import ConsoleReporter
from hygiene_plugins.reporters.csv_report import CsvReporter
from hygiene_plugins.reporters.github import GithubReporter
from hygiene_plugins.reporters.gitlab import GitlabReporter
from hygiene_plugins.reporters.html import HtmlReporter
from hygiene_plugins.reporters.json_report import JsonReporter
from hygiene_plugins.reporters.junit import JunitReporter
from hygiene_plugins.reporters.markdown import MarkdownReporter
from hygiene_plugins.reporters.xlsx import XlsxReporter


@hookimpl
def hygiene_register_reporters():
    return [ConsoleReporter, JsonReporter, JunitReporter, GithubReporter, GitlabReporter, MarkdownReporter, CsvReporter, HtmlReporter, XlsxReporter]
