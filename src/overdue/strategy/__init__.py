"""The collection strategy language: which treatments an account gets, on which day.

Design overview
---------------
A **strategy** is a YAML file (validated, immutable once parsed) that :func:`decide` applies to the
:class:`AccountFacts` of one account on one business date, giving a :class:`Decision`: the stage, the
:class:`PlannedAction` list (before compliance), the pause that stopped collection if any, and a trace in
words. Deciding is a pure function; files are read only by :mod:`overdue.strategy.loader`.

The file, top to bottom (``docs/strategy.md`` has the full reference)::

    strategy: huabei                      # a name
    description: ...
    parameters:                           # named values, read elsewhere as $name
      large_balance: "10000.00"           #   a quoted yuan string is an amount
      ai_voice_from_dpd: 4                #   an integer is a number
    templates:                            # message texts, every one in zh-CN and en
      early_sms: {zh-CN: "...{amount}...", en: "...{amount}..."}
    stages:                               # ordered; at most one may match any account
      - name: early
        when: {days_past_due: {min: 1, max: 15}}   # segment: every test must hold
        next: call                        # where a broken promise sends the account
        treatments:
          - id: early_sms                 # unique in the file; last_done is keyed by it
            type: sms                     # one of ACTION_TYPES
            template: early_sms           # required for sms, push, letter, lawyer_letter
            priority: 20                  # lower first; default 50
            on_dpd: [1, 3, 7, 11, 15]     # schedule rules, all that are given must hold
    pauses:                               # facts that stop all actions
      - {name: promise, when: {promise: {in: [pending, kept]}}, exempt_stages: [pre_due]}
    experiments:                          # champion / challenger
      - name: early_voice
        variants:
          - {name: champion, share: 50}
          - {name: challenger, share: 50, parameters: {ai_voice_from_dpd: 2}}

**Conditions** (``when:``) map field names of :class:`AccountFacts` to a test: a value (equality; ``null``
for an unset optional field), ``{min, max}`` (inclusive, either may be left out; money as yuan strings),
``{in: [...]}`` or ``{not_in: [...]}``; ``any: [cond, ...]`` needs one of its conditions to hold.

**Schedules** of a treatment: ``on_dpd: [...]``, ``on_days_to_due: [...]``, ``from_dpd``/``to_dpd``
(inclusive), ``every_days: N`` (N days since ``last_done``), ``once: true`` (not if done this episode),
``after: {treatment: ID, days: N}`` (N days after ID was done), and ``when:`` conditions. No rule at all
means every day the stage holds.

**Escalation**: the stage is the one whose ``when`` matches; ``escalation: k`` in the facts moves the account
k stages along ``next``. **Experiments**: every account gets a variant of every experiment by
:func:`assign_variant`; the variant's parameters override the strategy's; each action records it.

**Validation** reports every problem at once, each with file, line and field (:class:`StrategyError`):
unknown keys, fields, action types, parties, placeholders, templates, stages, treatments and ``$parameters``;
parameter kinds (amount vs number); duplicate names and ids; missing templates on message treatments;
shares not adding up to 100; ``next`` cycles; and stages that overlap or that no account can reach, found on
a grid of representative facts (:mod:`overdue.strategy.checks` explains why it is exact). Unused templates
and parameters are warnings (``Strategy.warnings``).

Modules: :mod:`.facts` (the input), :mod:`.conditions` (tests), :mod:`.model` (records); :mod:`.source`,
:mod:`.parse_conditions`, :mod:`.parse_experiments` and :mod:`.parser` (reading, with line numbers);
:mod:`.checks` (whole-file checks), :mod:`.decide` (deciding and variants), :mod:`.loader` (files),
:mod:`.describe` (outline).
"""

from overdue.strategy.decide import assign_variant, decide
from overdue.strategy.errors import Problem, StrategyError
from overdue.strategy.facts import AccountFacts
from overdue.strategy.loader import default_strategy, load_strategy, shipped_strategy
from overdue.strategy.model import (
    ACTION_TYPES,
    Decision,
    Experiment,
    Pause,
    PlannedAction,
    Stage,
    Strategy,
    Template,
    Treatment,
    Variant,
)
from overdue.strategy.parser import parse_strategy

__all__ = [
    "ACTION_TYPES",
    "AccountFacts",
    "Decision",
    "Experiment",
    "Pause",
    "PlannedAction",
    "Problem",
    "Stage",
    "Strategy",
    "StrategyError",
    "Template",
    "Treatment",
    "Variant",
    "assign_variant",
    "decide",
    "default_strategy",
    "load_strategy",
    "parse_strategy",
    "shipped_strategy",
]
