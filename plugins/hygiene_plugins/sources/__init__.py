"""Built-in sources: CSV, JSON (an array of objects) and JSON Lines exports."""

from hygiene import hookimpl

from hygiene_plugins.sources.csv_source import CsvSource
from hygiene_plugins.sources.json_source import JsonLinesSource, JsonSource


@hookimpl
def hygiene_register_sources():
    return [CsvSource, JsonSource, JsonLinesSource]
