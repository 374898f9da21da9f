"""An agreement as an HTML page (Jinja2, autoescaped: names and ids are never read as markup)."""

from __future__ import annotations

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from overdue.relief_docs.content import AgreementDocument

_environment = Environment(
    loader=PackageLoader("overdue.relief_docs", "templates"),
    autoescape=select_autoescape(["html", "j2"]),
    undefined=StrictUndefined,
)


def render_html(document: AgreementDocument) -> str:
    """The agreement as a standalone HTML page in its language."""
    return _environment.get_template("agreement.html.j2").render(doc=document)
