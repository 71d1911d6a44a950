import os
import sys


def _drop_working_directory() -> None:
    """``python -m ecolint`` puts the working directory first on ``sys.path``, so a ``yaml.py`` or ``libcst.py``
    in the repository being linted would be imported (executed) in place of ecolint's dependencies. Drop that
    entry unless ecolint itself was loaded from there (a source checkout)."""
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    cwd = os.path.abspath(os.getcwd())
    if os.path.normcase(here) == os.path.normcase(cwd):
        return
    sys.path[:] = [p for p in sys.path if os.path.normcase(os.path.abspath(p or os.curdir)) != os.path.normcase(cwd)]


_drop_working_directory()

from ecolint.cli import main  # noqa: E402

raise SystemExit(main())
