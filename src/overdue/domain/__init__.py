"""The pure rules of a Huabei-style credit line: standard library only, no I/O.

``money`` (integer fen, one rounding rule, parts that sum to the whole) · ``calendar`` (business dates, the
statement cycle) · ``terms`` (product terms, the ``huabei`` preset) · ``ledger`` (balanced postings) ·
``state`` (immutable account records; ``records`` copies them with changes) · ``interest``,
``delinquency``, ``billing``, ``allocation``, ``installments`` (the daily and on-demand rules) · ``account``
(the operations and the end-of-day order) · ``snapshot`` (the JSON view). Services load state, call these
functions and save what they return.
"""
