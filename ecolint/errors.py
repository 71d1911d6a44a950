"""The one error type for a problem the user must fix before ecolint can run: a bad option, configuration,
measurement table or rule plugin. ``ecolint`` prints it without a traceback and exits with code 2."""

from __future__ import annotations


class UsageError(Exception):
    """A usage, configuration or input problem: printed as ``ecolint: <label>: <message>``, exit code 2."""

    label = "error"
