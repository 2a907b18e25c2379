"""Errors that end a run with exit code 2 and one line of explanation."""


class HygieneError(Exception):
    """Unusable input, configuration or plugin.

    The message is shown to the user as one line, without a traceback
    (unless ``--debug``), and the run exits with code 2.
    """

    exit_code = 2


class ConfigError(HygieneError):
    """The configuration file is unreadable or invalid."""


class SourceError(HygieneError):
    """The deal data cannot be read."""


class PluginError(HygieneError):
    """A plugin failed to load or registers something that clashes."""
