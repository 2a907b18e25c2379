"""Built-in sources: CSV, JSON, JSON Lines, spreadsheets, Parquet, Arrow IPC and SQL databases."""

from hygiene import hookimpl

from hygiene_plugins.sources.columnar_source import ArrowIpcSource, ParquetSource
from hygiene_plugins.sources.csv_source import CsvSource
from hygiene_plugins.sources.excel_source import ExcelSource
from hygiene_plugins.sources.json_source import JsonLinesSource, JsonSource
from hygiene_plugins.sources.sql_source import SqlSource


@hookimpl
def hygiene_register_sources():
    return [CsvSource, JsonSource, JsonLinesSource, ExcelSource, ParquetSource, ArrowIpcSource, SqlSource]
