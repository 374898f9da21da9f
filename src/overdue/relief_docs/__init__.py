"""Agreement documents of negotiated repayment plans and settlements, in zh-CN and English.

- :mod:`overdue.relief_docs.content` says *what* the agreement states (every term the credit-card rules
  require: the balance and its structure, the schedule, interest and fees during the plan, what is set
  aside and who approved it, the breach terms, the effect on the credit line and the bureau), as sections
  of rows — pure, and the same for both formats;
- :mod:`overdue.relief_docs.html` renders it with Jinja2 (autoescaped);
- :mod:`overdue.relief_docs.pdf` renders it with reportlab, in the built-in CID font ``STSong-Light`` for
  Chinese (no font files needed).

The service :mod:`overdue.services.relief_agreements` gathers the facts from the store.
"""
