"""Credit-bureau commands: ``overdue bureau export --month YYYY-MM [--format csv|json] [--out FILE]``.

The file goes to stdout unless ``--out`` names a file; then one line says how many records were written
(never a borrower's ID: the file holds national IDs in full, so the command prints none of it elsewhere).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from overdue.cli.common import JsonOption, fail, print_json, state
from overdue.lazy import lazy_module

if TYPE_CHECKING:
    from overdue.services import bureau
else:
    bureau = lazy_module("overdue.services.bureau")

app = typer.Typer(help="The credit-bureau file.", no_args_is_help=True)


@app.command("export")
def export(
    ctx: typer.Context,
    month: Annotated[str, typer.Option("--month", metavar="YYYY-MM", help="The month to report.")],
    fmt: Annotated[
        str | None, typer.Option("--format", metavar="csv|json", help="File format (default: csv).")
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", metavar="FILE", help="Write the file here (default: stdout).")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Write the bureau file of a month: one record per account reported, in account order."""
    if as_json and fmt not in (None, "json"):
        fail(f"--json and --format {fmt} disagree: choose one")
    chosen = fmt or ("json" if as_json else "csv")
    if chosen not in bureau.FORMATS:
        fail(f"--format must be one of {', '.join(bureau.FORMATS)}, got {chosen!r}")
    engine = state(ctx).migrated_engine()
    try:
        file = bureau.bureau_file(engine, month)
    finally:
        engine.dispose()  # close the pooled connections now, not when the process ends
    text = bureau.render(file, chosen)
    if out is None:
        typer.echo(text, nl=False)
        return
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as error:
        fail(f"cannot write {out}: {error.strerror}")
    if as_json:
        print_json({"month": file.month, "count": len(file.records), "format": chosen, "out": str(out)})
    else:
        typer.echo(f"wrote {len(file.records)} record(s) of {file.month} to {out} ({chosen})")
