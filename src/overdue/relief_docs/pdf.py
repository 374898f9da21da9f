"""An agreement as a PDF (reportlab), readable in Chinese without any font file.

Chinese text uses ``STSong-Light``, one of the CID fonts every PDF reader provides (Adobe's Asian font
packs): reportlab only names it in the file, so nothing is embedded and nothing is downloaded. English text
uses the same font, so both languages render identically. Text is escaped before reportlab's paragraph
markup reads it. Files are built ``invariant`` (no creation time or random id), so the same agreement gives
the same bytes.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from xml.sax.saxutils import escape

from reportlab.lib import colors  # type: ignore[import-untyped]
from reportlab.lib.pagesizes import A4  # type: ignore[import-untyped]
from reportlab.lib.styles import ParagraphStyle  # type: ignore[import-untyped]
from reportlab.lib.units import mm  # type: ignore[import-untyped]
from reportlab.pdfbase import pdfmetrics  # type: ignore[import-untyped]
from reportlab.pdfbase.cidfonts import UnicodeCIDFont  # type: ignore[import-untyped]
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle  # type: ignore[import-untyped]

from overdue.relief_docs.content import AgreementDocument

FONT = "STSong-Light"


@dataclass(frozen=True)
class RenderedPdf:
    """A rendered agreement: the file's bytes and how many pages it has."""

    data: bytes
    pages: int


def _font() -> str:
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    return FONT


def render_pdf(document: AgreementDocument) -> RenderedPdf:
    """The agreement as an A4 PDF in its language."""
    font = _font()
    wrap = "CJK" if document.lang == "zh-CN" else None
    body = ParagraphStyle("body", fontName=font, fontSize=10, leading=15, wordWrap=wrap)
    cell = ParagraphStyle("cell", parent=body, fontSize=9, leading=12)
    heading = ParagraphStyle("heading", parent=body, fontSize=12, leading=18, spaceBefore=8, spaceAfter=4)
    title = ParagraphStyle("title", parent=body, fontSize=16, leading=22, alignment=1, spaceAfter=10)

    def para(text: str, style: ParagraphStyle) -> Paragraph:
        return Paragraph(escape(text), style)

    story: list[Flowable] = [para(document.title, title)]
    for section in document.sections:
        story.append(para(section.heading, heading))
        if section.rows:
            rows = [[para(label, cell), para(value, cell)] for label, value in section.rows]
            table = Table(rows, colWidths=[55 * mm, 110 * mm], hAlign="LEFT")
            table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
            story.append(table)
        if section.table:
            grid = [[para(text, cell) for text in row] for row in section.table]
            table = Table(grid, colWidths=[25 * mm, 30 * mm, 35 * mm, 35 * mm, 35 * mm], repeatRows=1)
            table.setStyle(
                TableStyle(
                    [
                        ("GRID", (0, 0), (-1, -1), 0.5, colors.grey),
                        ("BACKGROUND", (0, 0), (-1, 0), colors.whitesmoke),
                        ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ]
                )
            )
            story.append(table)
        for clause in section.clauses:
            story.append(Spacer(1, 2 * mm))
            story.append(para(clause, body))
    buffer = io.BytesIO()
    pdf = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=20 * mm,
        rightMargin=20 * mm,
        topMargin=20 * mm,
        bottomMargin=20 * mm,
        title=f"{document.title} {document.reference}",
        lang=document.lang,
        invariant=True,
    )
    pdf.build(story)
    return RenderedPdf(buffer.getvalue(), int(pdf.page))
