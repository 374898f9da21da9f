"""The end-of-day pipeline.

``reference`` is the per-account runner: readable, one account at a time, the executable spec. The
set-based runner (whole tables at once) arrives with the scale issue and must equal it field by field.
"""
