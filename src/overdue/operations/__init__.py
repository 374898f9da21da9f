"""Collector operations: the pure rules behind cases, queues, daily allocation, field routes, legal cases
and debt sales.

Design overview:

- a **case** is everything one borrower owes (all accounts of one national ID; an account without a known
  borrower is a case of its own). Its **stage** follows the worst DPD of its accounts, its **queue** is the
  stage unless open work says otherwise (legal > agency > field), its **priority** weighs overdue balance,
  DPD and, when known, the collection score (:mod:`overdue.operations.cases`);
- **allocation** gives each morning's call-queue cases to collectors: sticky to yesterday's collector, one
  collector per case, daily caps, the rest balanced by overdue amount (:mod:`overdue.operations.allocation`);
- **field routes** group field-visit orders by city and district and give each route to a team of two or
  more field agents (:mod:`overdue.operations.routes`);
- **legal** cases move lawyer's letter → mediation → filing → judgment → enforcement; the limitation period
  runs three years from the last qualifying event (:mod:`overdue.operations.legal`);
- **debt sale** selects a portfolio by filters and writes its transfer file (:mod:`overdue.operations.sale`);
- **agencies**: placement rules, commission tiers, the rows of an agency's results file
  (:mod:`overdue.operations.agency`).

Everything here imports only the standard library and :mod:`overdue.domain`; the services
(:mod:`overdue.services.operations`) load, call these functions and save.
"""
