"""Synthetic borrowers: who they are (name, phone, city and its time zone), their credit line, and the latent
traits that drive their behaviour.

Everything is drawn from one seed, vectorised with NumPy, so the same seed gives the same portfolio whatever
the number of worker processes. Names and phones come from Faker's ``zh_CN`` locale, seeded too.

Latent traits (probabilities, never money):

- **ability** to pay (0–1): how much of a statement the borrower can pay; a life event (job loss) cuts it;
- **willingness** to pay (0–1): how readily they pay what they can, and how strongly collection treatments
  move them;
- **spend rate**: the chance of a purchase on a given day, and **spend share**: the typical purchase as a
  share of the credit limit;
- **unreachable**: the phone on file no longer reaches them (``lost_contact`` on the first call).

Each borrower also has a **language** (``zh-CN`` or ``en``, :data:`~overdue.domain.state.LANGUAGES`): the one
their notices and collection messages are written in. A share of English-speaking borrowers is drawn from a
stream of its own, so asking for one changes no other draw: the same seed gives the same borrowers, only some
of them reading English.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
from faker import Faker

from overdue.domain.state import DEFAULT_LANGUAGE

CITIES: tuple[tuple[str, str, str, float], ...] = (
    ("上海", "Shanghai", "Asia/Shanghai", 0.14),
    ("北京", "Beijing", "Asia/Shanghai", 0.13),
    ("广州", "Guangzhou", "Asia/Shanghai", 0.10),
    ("深圳", "Shenzhen", "Asia/Shanghai", 0.10),
    ("杭州", "Hangzhou", "Asia/Shanghai", 0.09),
    ("成都", "Chengdu", "Asia/Shanghai", 0.09),
    ("武汉", "Wuhan", "Asia/Shanghai", 0.08),
    ("西安", "Xi'an", "Asia/Shanghai", 0.07),
    ("南京", "Nanjing", "Asia/Shanghai", 0.07),
    ("重庆", "Chongqing", "Asia/Shanghai", 0.07),
    ("乌鲁木齐", "Urumqi", "Asia/Urumqi", 0.04),
    ("喀什", "Kashgar", "Asia/Urumqi", 0.02),
)
"""(Chinese name, English name, IANA time zone, share of borrowers). Xinjiang keeps its own local time."""

MIN_LIMIT_FEN = 50_000
MAX_LIMIT_FEN = 5_000_000
LIMIT_STEP_FEN = 10_000
"""Limits are whole hundreds of yuan, 500.00–50,000.00."""
ENGLISH = "en"
LANGUAGE_STREAM = 0xE4
"""The borrowers' languages' own random stream: a share of English speakers moves no other draw."""
FRAUD_STREAM = 0xF4
"""Which borrowers are fraudulent: a stream of its own, so a share of them moves no other draw."""
FRAUD_UNREACHABLE = 0.5
"""Share of fraudulent borrowers whose phone on file never reached them (a borrowed or bought number)."""


@dataclass(frozen=True)
class Borrower:
    """One synthetic borrower and the account they open. Traits are floats in 0–1 (behaviour, not money)."""

    index: int
    account_id: str
    name: str
    phone: str
    city: str
    city_en: str
    timezone: str
    credit_limit: int
    """Fen, a multiple of 100.00 yuan."""
    opened_on: date
    ability: float
    willingness: float
    spend_rate: float
    spend_share: float
    unreachable: bool
    language: str = DEFAULT_LANGUAGE
    """The language their notices and messages are written in (``zh-CN`` or ``en``)."""
    fraud: bool = False
    """Opened the line to spend it and never repay (:attr:`~overdue.sim.model.BehaviourModel.fraud_share`;
    how they behave: :class:`~overdue.sim.behaviour.Behaviour`)."""


def make_borrowers(
    count: int, seed: int, start: date, english_share: float = 0.0, fraud_share: float = 0.0
) -> list[Borrower]:
    """``count`` borrowers drawn from ``seed``; accounts open over the 28 days from ``start``; about
    ``english_share`` (0–1) of them read English, the others zh-CN; about ``fraud_share`` (0–1) are
    fraudulent (:attr:`Borrower.fraud`), half of those unreachable from the start. Both are drawn from
    streams of their own: asking for either changes no other draw.

    Limits are log-normal around 3,000 yuan (most between 800 and 12,000), clipped to 500–50,000 and rounded
    to 100 yuan; ability and willingness are Beta-distributed and mildly correlated with the limit (a risk
    model gives better borrowers larger lines).
    """
    rng = np.random.default_rng([seed, 0xB0])
    shares = np.array([c[3] for c in CITIES])
    city_index = rng.choice(len(CITIES), size=count, p=shares / shares.sum())
    raw_limit = rng.lognormal(mean=np.log(300_000), sigma=0.9, size=count)
    limits = np.clip(np.round(raw_limit / LIMIT_STEP_FEN) * LIMIT_STEP_FEN, MIN_LIMIT_FEN, MAX_LIMIT_FEN)
    limit_score = (np.log(limits) - np.log(MIN_LIMIT_FEN)) / (np.log(MAX_LIMIT_FEN) - np.log(MIN_LIMIT_FEN))
    ability = np.clip(rng.beta(6.0, 1.4, size=count) * (0.85 + 0.15 * limit_score), 0.02, 0.999)
    willingness = np.clip(rng.beta(5.0, 1.3, size=count), 0.02, 0.999)
    spend_rate = np.clip(rng.gamma(2.0, 0.05, size=count), 0.01, 0.6)
    spend_share = np.clip(rng.lognormal(np.log(0.04), 0.6, size=count), 0.005, 0.4)
    unreachable = rng.random(count) < 0.04 + 0.06 * (1 - willingness)
    open_offset = rng.integers(0, 28, size=count)
    if not 0.0 <= english_share <= 1.0:
        raise ValueError(f"the share of English-speaking borrowers must be within 0–1, got {english_share}")
    english = np.random.default_rng([seed, LANGUAGE_STREAM]).random(count) < english_share
    if not 0.0 <= fraud_share <= 1.0:
        raise ValueError(f"the share of fraudulent borrowers must be within 0–1, got {fraud_share}")
    fraud_draws = np.random.default_rng([seed, FRAUD_STREAM]).random((2, count))
    fraud = fraud_draws[0] < fraud_share
    unreachable |= fraud & (fraud_draws[1] < FRAUD_UNREACHABLE)

    faker = Faker("zh_CN")
    faker.seed_instance(seed)
    borrowers = []
    for i in range(count):
        city = CITIES[int(city_index[i])]
        borrowers.append(
            Borrower(
                index=i,
                account_id=f"SIM{i:07d}",
                name=faker.name(),
                phone=faker.phone_number(),
                city=city[0],
                city_en=city[1],
                timezone=city[2],
                credit_limit=int(limits[i]),
                opened_on=date.fromordinal(start.toordinal() + int(open_offset[i])),
                ability=float(ability[i]),
                willingness=float(willingness[i]),
                spend_rate=float(spend_rate[i]),
                spend_share=float(spend_share[i]),
                unreachable=bool(unreachable[i]),
                language=ENGLISH if english[i] else DEFAULT_LANGUAGE,
                fraud=bool(fraud[i]),
            )
        )
    return borrowers
