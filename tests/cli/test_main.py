"""The CLI skeleton: version, database upgrade, one-line errors, and command modules loaded when they run."""

import importlib
import json
import subprocess
import sys
from pathlib import Path

import typer.main
from typer.testing import CliRunner

from overdue import __version__
from overdue.cli import main as cli_main
from overdue.cli.main import COMMANDS, app
from overdue.store.db import head_revision

runner = CliRunner()


def test_version() -> None:
    result = runner.invoke(app, ["version", "--json"])
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {"version": __version__}


def test_db_upgrade_creates_the_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/cli.db"
    result = runner.invoke(app, ["--db", url, "db", "upgrade", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["revision"] == head_revision()
    assert (tmp_path / "cli.db").exists()


def test_bad_database_url_is_one_line_error() -> None:
    result = runner.invoke(app, ["--db", "mysql://u@h/db", "db", "upgrade"])
    assert result.exit_code == 2
    assert result.stderr == "error: unsupported database 'mysql': use sqlite or postgresql\n"


def test_unreachable_database_is_one_line_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["--db", f"sqlite:///{tmp_path}/missing/dir/x.db", "db", "upgrade"])
    assert result.exit_code == 2
    assert result.stderr.startswith("error: cannot use the database:")
    assert result.stderr.count("\n") == 1


def _eager_app() -> typer.Typer:
    """The application with every command module imported and registered up front (typer's own way)."""
    eager = typer.Typer(name="overdue", help=app.info.help, no_args_is_help=True, add_completion=False)
    eager.callback()(cli_main.main)
    eager.command()(cli_main.version)
    eager.add_typer(cli_main.db_app, name="db")
    for name, command in COMMANDS.items():
        target = getattr(importlib.import_module(f"overdue.cli.{command.module}"), command.attribute)
        if command.group:
            eager.add_typer(target, name=name)
        else:
            eager.command(name)(target)
    return eager


def test_help_lists_every_command_as_its_own_help_reads() -> None:
    listed = runner.invoke(app, ["--help"], terminal_width=200)
    assert listed.exit_code == 0, listed.output
    eager = _eager_app()
    loaded = runner.invoke(eager, ["--help"], terminal_width=200)
    assert loaded.exit_code == 0, loaded.output
    # The help lines kept in COMMANDS are those the commands' own help gives, in the same order.
    assert listed.output == loaded.output
    assert "Run the end-of-day" in listed.output and "The credit-bureau file." in listed.output
    for name in COMMANDS:
        own = runner.invoke(app, [name, "--help"], terminal_width=200)
        assert own.exit_code == 0, own.output
        assert own.output == runner.invoke(eager, [name, "--help"], terminal_width=200).output


def test_help_and_version_load_no_command_module() -> None:
    script = (
        "import sys; from typer.testing import CliRunner; from overdue.cli.main import app; "
        "r = CliRunner().invoke(app, ['--help']); assert r.exit_code == 0, r.output; "
        "r = CliRunner().invoke(app, ['version']); assert r.exit_code == 0, r.output; "
        "print(' '.join(sorted(sys.modules)))"
    )
    loaded = set(
        subprocess.run(
            [sys.executable, "-c", script], check=True, capture_output=True, text=True
        ).stdout.split()
    )
    modules = {f"overdue.cli.{c.module}" for c in COMMANDS.values()}
    assert not loaded & (modules | {"overdue.sim", "overdue.setbased", "overdue.api", "sqlalchemy"})


HEAVY = ("sqlalchemy", "alembic", "numpy", "pyarrow", "ibis", "duckdb", "pandas", "fastapi", "uvicorn")
"""What takes seconds to import: a command's help loads none of it."""

EVERY_HELP = """
import sys
from typer.testing import CliRunner
from overdue.cli.main import COMMANDS, app

runner = CliRunner()
pages = 0

def walk(path, command):
    global pages
    result = runner.invoke(app, [*path, "--help"])
    assert result.exit_code == 0, (path, result.output)
    assert "Usage:" in result.output, (path, result.output)
    pages += 1
    if hasattr(command, "list_commands"):  # a group (typer's own click)
        for name in command.list_commands(None):
            walk([*path, name], command.get_command(None, name))

root = __import__("typer").main.get_command(app)
for name in root.list_commands(None):
    walk([name], root.load(name) if name in COMMANDS else root.get_command(None, name))
# A module given by overdue.lazy.lazy_module is in sys.modules before it runs, as a lazy module.
ran = sorted(m for m, module in sys.modules.items() if type(module).__name__ != "_LazyModule")
print(pages, " ".join(ran))
"""


def test_every_commands_help_loads_nothing_heavy() -> None:
    """Every page of help, each command's and each subcommand's, in one fresh process: the command modules
    are loaded, their services (the store, the simulator, the engines) are not."""
    done = subprocess.run([sys.executable, "-c", EVERY_HELP], check=True, capture_output=True, text=True)
    count, *loaded = done.stdout.split()
    assert int(count) > 80
    assert {f"overdue.cli.{c.module}" for c in COMMANDS.values()} <= set(loaded)
    assert not {m for m in loaded if m.split(".")[0] in HEAVY}


def test_a_command_loads_its_module_when_it_runs() -> None:
    result = runner.invoke(app, ["strategy", "show", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["strategy"] == "huabei"
