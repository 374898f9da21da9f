"""The ``overdue`` command line: thin commands over the services.

Design overview
---------------
- ``main.py`` holds the typer ``app``: the top-level ``--db URL`` option, ``overdue version`` and
  ``overdue db ...``; other command modules are registered there, one line each.
- ``common.py`` holds what every command shares: the context object (:class:`CliState`), the ``--json``
  option, :func:`fail` for one-line errors, and JSON output.

Conventions: human output by default and JSON with ``--json``; bad input exits 2 with one line
``error: ...`` on stderr, never a traceback.
"""
