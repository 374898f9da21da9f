"""Use cases: each loads what it needs, calls the pure rules, and saves the result in one DB transaction.

``accounts`` (open, purchase, repay, installments, snapshot) · ``idempotency`` (replays return the first
answer) · ``scenario`` (worked examples run end to end through the store and the end-of-day).
"""
