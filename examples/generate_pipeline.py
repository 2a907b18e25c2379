"""Generate ``examples/pipeline.csv``, the sample export the top-level ``hygiene.toml`` audits.

The export looks like a Salesforce opportunity report ("Export Details",
US date format): about 200 deals for 10 reps in three teams (one of whom
has left), mostly clean, with several of every problem the built-in rules
detect on ``REFERENCE_DATE``, which the sample configuration pins as its
``as_of``: stale, silent and past-due deals, missing and vague next steps,
early commits, implausible close dates and probabilities, single-threaded
deals, missing, inflated and placeholder amounts and names, close dates
clumped on a quarter end, deals entered twice, broken won records and
dates out of order.

Everything is drawn from ``random.Random(SEED)`` around that fixed date and
nothing reads the clock, so every run writes the same bytes:

    python examples/generate_pipeline.py [--output PATH] [--seed N]
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import itertools
import random
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from hygiene import DEFAULT_STAGES, period_containing
from hygiene.files import atomic_text_writer

SEED = 2026
#: The sample's audit date: every date in the export is drawn relative to it.
REFERENCE_DATE = dt.date(2026, 11, 16)
DEFAULT_OUTPUT = Path(__file__).resolve().parent / "pipeline.csv"

COLUMNS = (
    "Opportunity ID",
    "Opportunity Name",
    "Account Name",
    "Opportunity Owner",
    "Owner Role",
    "Type",
    "Lead Source",
    "Stage",
    "Amount",
    "Opportunity Currency",
    "Probability (%)",
    "Forecast Category",
    "Close Date",
    "Created Date",
    "Last Stage Change Date",
    "Last Activity",
    "Push Count",
    "Contact Roles",
    "Next Step",
    "Next Step Date",
    "Next Activity",
    "Product",
    "Loss Reason",
    "Owner Active",
)


@dataclass(frozen=True)
class Team:
    role: str
    currency: str
    quota: int
    min_amount: int
    max_amount: int
    accounts: tuple[str, ...]


@dataclass(frozen=True)
class Rep:
    name: str
    team: Team
    #: Whether won plus weighted pipeline this quarter reaches quota (HY004 flags the others).
    on_track: bool
    #: Whether the rep still works here: the deals of one who left are owner-inactive (HY070).
    active: bool = True


AMERICAS_ACCOUNTS = (
    "Acorn Bay Foods", "Alder Creek Health", "Amberline Freight", "Arcadia Learning", "Ashford Insurance Group",
    "Beacon Hill Dental", "Birchwood Manufacturing", "Blue Heron Logistics", "Brightwater Utilities",
    "Cascade Outdoor Supply", "Cedar Point Credit Union", "Clearview Optics", "Cobalt Ridge Mining",
    "Copperleaf Pharmacy", "Crestmark Hotels", "Driftwood Media", "Eastgate Property Partners",
    "Evergreen Senior Living", "Fairhaven Bank", "Falcon Aerostructures", "Granite State Energy",
    "Greenfield Agritech", "Harborview Hospital", "Highpoint Software", "Hollis & Grant LLP", "Ironclad Security",
    "Juniper Retail Group", "Keystone Precision Tools", "Lakeshore Transit Authority", "Larkspur Biotech",
    "Lighthouse Telecom", "Meridian Freightways", "Millbrook Paper Co.", "Northgate Engineering",
    "Oakmont University", "Orchard Valley Farms", "Pacific Crest Shipping", "Quarry Lane Construction",
    "Redwood Analytics", "Riverbend Medical", "Sablewood Furniture", "Silverline Payments", "Stonebridge Capital",
    "Summit Peak Outfitters", "Tidewater Chemicals", "Timberline Homes",
)
EMEA_ACCOUNTS = (
    "Alpenrose Logistik GmbH", "Bellamy & Fils", "Brightmoor Retail Ltd", "Castellan Assicurazioni",
    "Delacroix Pharma", "Fjordline Energi AS", "Hansa Maschinenbau AG", "Kestrel Aviation Ltd",
    "Linden Haus Hotels", "Mercator Shipping BV", "Noordzee Foods BV", "Olivetta Alimentari",
    "Sorrento Textiles", "Thames Valley Water", "Vasterby Bygg AB", "Zephyr Mobility SAS",
)

ENTERPRISE = Team("Enterprise Sales", "USD", 300_000, 60_000, 320_000, AMERICAS_ACCOUNTS)
MID_MARKET = Team("Mid-Market Sales", "USD", 150_000, 12_000, 90_000, AMERICAS_ACCOUNTS)
EMEA = Team("EMEA Sales", "EUR", 200_000, 25_000, 180_000, EMEA_ACCOUNTS)

REPS = (
    Rep("Dana Whitfield", ENTERPRISE, on_track=True),
    Rep("Marcus Oyelaran", ENTERPRISE, on_track=False, active=False),
    Rep("Priya Raman", ENTERPRISE, on_track=True),
    Rep("Carlos Mendes", MID_MARKET, on_track=True),
    Rep("Hannah Kowalski", MID_MARKET, on_track=False),
    Rep("Jamal Price", MID_MARKET, on_track=True),
    Rep("Sofia Lindqvist", MID_MARKET, on_track=True),
    Rep("Luca Bianchi", EMEA, on_track=False),
    Rep("Ines Moreau", EMEA, on_track=True),
    Rep("Tobias Keller", EMEA, on_track=False),
)

STAGES = {stage.name: stage for stage in DEFAULT_STAGES}
OPEN_STAGES = tuple(stage.name for stage in DEFAULT_STAGES if not stage.closed)
FORECAST_CATEGORY = {
    "Prospecting": "Pipeline",
    "Qualification": "Pipeline",
    "Needs Analysis": "Pipeline",
    "Proposal": "Best Case",
    "Negotiation": "Commit",
    "Closed Won": "Closed",
    "Closed Lost": "Omitted",
}
#: Stages a sales team uses that the stage table does not know (HY901).
UNKNOWN_STAGES = (("Discovery", 10, "Pipeline"), ("Verbal Commit", 90, "Commit"), ("On Hold", 5, "Omitted"))

NEXT_STEPS = {
    "Prospecting": ("Intro call booked", "Send customer case study", "Qualify budget on next call", "Connect with VP Operations"),
    "Qualification": ("Discovery call with IT lead", "Confirm budget and timeline", "Map the buying committee"),
    "Needs Analysis": ("Technical deep-dive with architects", "Requirements workshop", "Share ROI model"),
    "Proposal": ("Send revised pricing", "Proposal review with CFO", "Complete security questionnaire"),
    "Negotiation": ("Legal redline review", "Final discount approval", "Procurement call", "Order form out for signature"),
    "Closed Won": ("Kickoff with customer success", "Handover to implementation", ""),
    "Closed Lost": ("",),
}
STALLED_NEXT_STEPS = ("Follow up", "Check in after budget freeze", "Chase champion", "")
#: Next steps that say nothing (HY021 vague-next-step).
VAGUE_NEXT_STEPS = ("Follow up", "Pending", "Touch base next week", "Waiting on customer")
#: Names and next steps typed to get past a required field (HY052 placeholder-deal).
PLACEHOLDER_NAMES = ("Test opp - please ignore", "New Opportunity", "xxx")
LOSS_REASONS = ("Price", "Lost to competitor", "No decision", "Budget cut", "Timing")
OFFERINGS = (
    ("Platform Subscription", "New Business"),
    ("Enterprise License", "New Business"),
    ("Pilot", "New Business"),
    ("Data Migration Services", "New Business"),
    ("Analytics Add-on", "Existing Business"),
    ("Seat Expansion", "Existing Business"),
    ("Premium Support Upgrade", "Existing Business"),
    ("New Region Rollout", "Existing Business"),
    ("Multi-year Renewal", "Renewal"),
)
LEAD_SOURCES = ("Inbound - Web", "Outbound", "Partner Referral", "Trade Show", "Customer Referral")
#: Days without activity each open stage allows (the default stage table's max_inactive_days).
MAX_INACTIVE_DAYS = {"Prospecting": 45, "Qualification": 30, "Needs Analysis": 21, "Proposal": 14, "Negotiation": 7}

#: How many deals of each kind the base pipeline holds, before the quarter is shaped per rep.
BASE_KINDS = {
    "open": 36,
    "won": 34,
    "lost": 28,
    "stale": 10,
    "missing_close_date": 6,
    "past_due": 10,
    "drop_pushed": 5,
    "drop_unlikely": 5,
    "unknown_stage": 3,
    # The problems of the wider rule catalogue, several of each.
    "gone_quiet": 3,
    "nothing_scheduled": 3,
    "next_step_overdue": 3,
    "vague_next_step": 3,
    "commit_too_early": 3,
    "probability_off": 3,
    "far_out": 3,
    "closing_too_soon": 3,
    "single_threaded": 3,
    "no_amount": 3,
    "placeholder": 3,
    "won_record_broken": 3,
    "dates_out_of_order": 4,
}
#: Deals entered twice under another id, the name retyped (HY054 possible-duplicate).
DUPLICATE_PAIRS = 3
#: Open deals of one rep moved onto the next quarter's last day (HY053 close-date-clumping).
CLUMPED_DEALS = 7
#: Open deals whose amount got two zeros too many (HY051 amount-outlier).
OUTLIER_AMOUNTS = 4
DUPLICATED_ROWS = 3


@dataclass
class SampleDeal:
    id: str
    name: str
    account: str
    rep: Rep
    deal_type: str
    lead_source: str
    stage: str
    amount: int
    probability: float
    forecast_category: str
    close_date: dt.date | None
    created_date: dt.date
    stage_entered_date: dt.date | None
    last_activity_date: dt.date | None
    close_date_pushes: int = 0
    contacts: int = 1
    next_step: str = ""
    next_step_date: dt.date | None = None
    next_activity_date: dt.date | None = None
    product: str = ""
    loss_reason: str = ""
    #: Cells written as given instead of from the typed value: the export's invalid values (HY900).
    raw_cells: dict[str, str] = field(default_factory=dict)

    @property
    def is_open(self) -> bool:
        return self.stage not in STAGES or not STAGES[self.stage].closed

    def row(self) -> list[str]:
        cells = {
            "Opportunity ID": self.id,
            "Opportunity Name": self.name,
            "Account Name": self.account,
            "Opportunity Owner": self.rep.name,
            "Owner Role": self.rep.team.role,
            "Type": self.deal_type,
            "Lead Source": self.lead_source,
            "Stage": self.stage,
            "Amount": str(self.amount),
            "Opportunity Currency": self.rep.team.currency,
            "Probability (%)": f"{self.probability:g}",
            "Forecast Category": self.forecast_category,
            "Close Date": us_date(self.close_date),
            "Created Date": us_date(self.created_date),
            "Last Stage Change Date": us_date(self.stage_entered_date),
            "Last Activity": us_date(self.last_activity_date),
            "Push Count": str(self.close_date_pushes),
            "Contact Roles": str(self.contacts),
            "Next Step": self.next_step,
            "Next Step Date": us_date(self.next_step_date),
            "Next Activity": us_date(self.next_activity_date),
            "Product": self.product,
            "Loss Reason": self.loss_reason,
            "Owner Active": "1" if self.rep.active else "0",
        }
        cells.update(self.raw_cells)
        return [cells[column] for column in COLUMNS]


def us_date(day: dt.date | None) -> str:
    """Dates as a US-locale Salesforce report writes them: 3/5/2026."""
    return "" if day is None else f"{day.month}/{day.day}/{day.year}"


class PipelineGenerator:
    """Draws deals of each kind; every date is relative to ``as_of``."""

    def __init__(self, seed: int = SEED, as_of: dt.date = REFERENCE_DATE) -> None:
        self.rng = random.Random(seed)
        self.as_of = as_of
        self.quarter = period_containing(as_of, "quarter")
        self.ids: set[str] = set()
        self.names: set[str] = set()
        self.unknown_stages = itertools.cycle(UNKNOWN_STAGES)

    def days_ago(self, low: int, high: int) -> dt.date:
        return self.as_of - dt.timedelta(days=self.rng.randint(low, high))

    def days_ahead(self, low: int, high: int) -> dt.date:
        return self.as_of + dt.timedelta(days=self.rng.randint(low, high))

    def new_id(self) -> str:
        alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
        while True:
            candidate = "0065g00000" + "".join(self.rng.choices(alphabet, k=5)) + "".join(self.rng.choices(alphabet[10:36], k=3))
            if candidate not in self.ids:
                self.ids.add(candidate)
                return candidate

    def deal(self, rep: Rep, stage: str, *, created: dt.date, close: dt.date | None, entered: dt.date | None, activity: dt.date | None) -> SampleDeal:
        """A deal in ``stage`` with the stage's probability and forecast category, and plausible details."""
        while True:
            offering, deal_type = self.rng.choice(OFFERINGS)
            account = self.rng.choice(rep.team.accounts)
            if f"{account} - {offering}" not in self.names:
                break
        self.names.add(f"{account} - {offering}")
        amount = self.rng.randrange(rep.team.min_amount, rep.team.max_amount, 500)
        known = STAGES.get(stage)
        is_open = known is None or not known.closed
        deal = SampleDeal(
            id=self.new_id(),
            name=f"{account} - {offering}",
            account=account,
            rep=rep,
            deal_type=deal_type,
            lead_source=self.rng.choice(LEAD_SOURCES),
            stage=stage,
            amount=amount,
            probability=known.probability if known else 10,
            forecast_category=FORECAST_CATEGORY.get(stage, "Pipeline"),
            close_date=close,
            created_date=created,
            stage_entered_date=entered,
            last_activity_date=activity,
            close_date_pushes=self.rng.choices((0, 1, 2), weights=(70, 20, 10))[0],
            contacts=self.rng.randint(1, 6),
            next_step=self.rng.choice(NEXT_STEPS.get(stage, ("",))),
            product=offering,
        )
        if is_open:
            # A live deal has its next step dated and its next meeting booked.
            deal.next_step_date = self.days_ahead(1, 21)
            deal.next_activity_date = self.days_ahead(1, 14)
            if deal.amount >= 100_000:
                deal.contacts = max(deal.contacts, 2)
            if activity is not None and stage in MAX_INACTIVE_DAYS:
                deal.last_activity_date = max(activity, self.as_of - dt.timedelta(days=self.rng.randint(0, MAX_INACTIVE_DAYS[stage])))
        return deal

    def open_stage(self, stages: tuple[str, ...] = OPEN_STAGES) -> str:
        return self.rng.choice(stages)

    def entered_within_limit(self, stage: str, created: dt.date) -> dt.date:
        limit = STAGES[stage].max_days
        return max(created, self.days_ago(0, limit))

    # One method per kind of deal, each drawing a deal with the problem it is named after (or none).
    # Problems come together where they do in real pipelines: a deal stalled for months is also stale.

    def open(self, rep: Rep) -> SampleDeal:
        stage = self.open_stage()
        created = self.days_ago(20, 170)
        deal = self.deal(rep, stage, created=created, close=None, entered=None, activity=self.days_ago(0, 20))
        # Clean pipeline closes after this quarter; the quarter itself is shaped per rep in `shape_quarter`.
        deal.close_date = self.quarter.end + dt.timedelta(days=self.rng.randint(5, 150))
        if stage == "Prospecting" and self.rng.random() < 0.4:
            # Salesforce leaves Last Stage Change Date empty until a deal first changes stage.
            deal.created_date = self.days_ago(3, 25)
        else:
            deal.stage_entered_date = self.entered_within_limit(stage, created)
        if self.rng.random() < 0.15:
            deal.probability = min(95, max(5, deal.probability + self.rng.choice((-10, -5, 5, 10))))
        return deal

    def closed(self, rep: Rep, stage: str, close: dt.date) -> SampleDeal:
        created = close - dt.timedelta(days=self.rng.randint(25, 160))
        deal = self.deal(rep, stage, created=created, close=close, entered=close, activity=close - dt.timedelta(days=self.rng.randint(0, 4)))
        deal.contacts = self.rng.randint(2, 8)
        if stage == "Closed Lost":
            deal.loss_reason = self.rng.choice(LOSS_REASONS)
        return deal

    def won(self, rep: Rep) -> SampleDeal:
        return self.closed(rep, "Closed Won", self.quarter.start - dt.timedelta(days=self.rng.randint(3, 280)))

    def lost(self, rep: Rep) -> SampleDeal:
        return self.closed(rep, "Closed Lost", self.days_ago(5, 330))

    def stale(self, rep: Rep) -> SampleDeal:
        stage = self.open_stage(OPEN_STAGES[1:])
        entered = self.days_ago(STAGES[stage].max_days + 8, STAGES[stage].max_days + 75)
        created = entered - dt.timedelta(days=self.rng.randint(5, 60))
        return self.deal(rep, stage, created=created, close=self.days_ahead(10, 120), entered=entered, activity=self.days_ago(1, 30))

    def missing_close_date(self, rep: Rep) -> SampleDeal:
        stage = self.open_stage(OPEN_STAGES[:3])
        created = self.days_ago(10, 90)
        return self.deal(rep, stage, created=created, close=None, entered=self.entered_within_limit(stage, created), activity=self.days_ago(0, 15))

    def past_due(self, rep: Rep) -> SampleDeal:
        stage = self.open_stage(OPEN_STAGES[2:])
        created = self.days_ago(60, 170)
        close = self.days_ago(2, 75)
        return self.deal(rep, stage, created=created, close=close, entered=self.entered_within_limit(stage, created), activity=self.days_ago(3, 40))

    def stalled(self, rep: Rep, stage: str) -> SampleDeal:
        """Old and silent for months: a ruthless-drop candidate once it slipped or is unlikely."""
        created = self.days_ago(200, 420)
        activity = self.days_ago(70, 190)
        entered = max(created, activity - dt.timedelta(days=self.rng.randint(0, 60)))
        deal = self.deal(rep, stage, created=created, close=self.days_ahead(5, 120), entered=entered, activity=activity)
        deal.next_step = self.rng.choice(STALLED_NEXT_STEPS)
        deal.next_step_date = activity + dt.timedelta(days=self.rng.randint(3, 20))
        deal.next_activity_date = None
        deal.last_activity_date = activity
        return deal

    def drop_pushed(self, rep: Rep) -> SampleDeal:
        deal = self.stalled(rep, self.open_stage(OPEN_STAGES[2:]))
        deal.close_date_pushes = self.rng.randint(3, 7)
        return deal

    def drop_unlikely(self, rep: Rep) -> SampleDeal:
        deal = self.stalled(rep, self.open_stage(OPEN_STAGES[:3]))
        if deal.stage == "Needs Analysis":
            deal.probability = self.rng.choice((10, 15))  # the rep's own, lower than the stage's
        return deal

    def unknown_stage(self, rep: Rep) -> SampleDeal:
        stage, probability, category = next(self.unknown_stages)
        created = self.days_ago(20, 120)
        deal = self.deal(rep, stage, created=created, close=self.days_ahead(20, 140), entered=max(created, self.days_ago(2, 25)), activity=self.days_ago(0, 14))
        deal.probability, deal.forecast_category = probability, category
        return deal

    # The wider catalogue: each deal is clean but for the problem it is named after.

    def later_open(self, rep: Rep, stages: tuple[str, ...] = OPEN_STAGES) -> SampleDeal:
        """A clean open deal closing after this quarter, to be given one problem."""
        deal = self.open(rep)
        if deal.stage not in stages:
            stage = self.open_stage(stages)
            deal.stage, deal.probability = stage, STAGES[stage].probability
            deal.forecast_category = FORECAST_CATEGORY[stage]
            deal.stage_entered_date = self.entered_within_limit(stage, deal.created_date)
            deal.last_activity_date = self.days_ago(0, MAX_INACTIVE_DAYS[stage])
            deal.next_step = self.rng.choice(NEXT_STEPS[stage])
        return deal

    def gone_quiet(self, rep: Rep) -> SampleDeal:
        deal = self.later_open(rep, OPEN_STAGES[2:])
        deal.stage_entered_date = max(deal.created_date, self.days_ago(0, 10))
        deal.last_activity_date = self.as_of - dt.timedelta(days=MAX_INACTIVE_DAYS[deal.stage] + self.rng.randint(3, 20))
        return deal

    def nothing_scheduled(self, rep: Rep) -> SampleDeal:
        deal = self.later_open(rep, OPEN_STAGES[1:])
        deal.next_activity_date = self.rng.choice((None, self.days_ago(2, 20)))
        return deal

    def next_step_overdue(self, rep: Rep) -> SampleDeal:
        deal = self.later_open(rep, OPEN_STAGES[1:])
        deal.next_step_date = self.days_ago(1, 25)
        return deal

    def vague_next_step(self, rep: Rep) -> SampleDeal:
        deal = self.later_open(rep, OPEN_STAGES[1:])
        deal.next_step = self.rng.choice(VAGUE_NEXT_STEPS)
        return deal

    def commit_too_early(self, rep: Rep) -> SampleDeal:
        deal = self.later_open(rep, OPEN_STAGES[1:3])
        deal.forecast_category = "Commit"
        return deal

    def probability_off(self, rep: Rep) -> SampleDeal:
        deal = self.later_open(rep, OPEN_STAGES[:2])
        deal.probability = self.rng.choice((75, 80, 90))
        return deal

    def far_out(self, rep: Rep) -> SampleDeal:
        deal = self.later_open(rep, OPEN_STAGES[2:])
        deal.close_date = self.days_ahead(300, 480)
        return deal

    def on_track(self, rep: Rep) -> Rep:
        """``rep``, or an on-track rep for deals that land in this quarter: a rep short of quota must stay short."""
        return rep if rep.on_track else self.rng.choice([r for r in REPS if r.on_track])

    def closing_too_soon(self, rep: Rep) -> SampleDeal:
        deal = self.later_open(self.on_track(rep), OPEN_STAGES[:3])
        deal.close_date = self.days_ahead(1, 14)
        return deal

    def single_threaded(self, rep: Rep) -> SampleDeal:
        deal = self.later_open(rep, OPEN_STAGES[2:])
        deal.amount = self.rng.randrange(max(100_000, rep.team.min_amount), max(rep.team.max_amount, 150_000), 500)
        deal.contacts = 1
        return deal

    def no_amount(self, rep: Rep) -> SampleDeal:
        deal = self.later_open(rep)
        deal.raw_cells["Amount"] = self.rng.choice(("", "0"))
        return deal

    def placeholder(self, rep: Rep) -> SampleDeal:
        deal = self.later_open(rep, OPEN_STAGES[:2])
        deal.name = self.rng.choice((*PLACEHOLDER_NAMES, deal.account))
        return deal

    def won_record_broken(self, rep: Rep) -> SampleDeal:
        deal = self.won(self.on_track(rep))
        problem = self.rng.choice(("amount", "probability", "future"))
        if problem == "amount":
            deal.raw_cells["Amount"] = ""
        elif problem == "probability":
            deal.probability = 90
        else:
            deal.close_date = deal.stage_entered_date = self.days_ahead(2, 20)
            deal.last_activity_date = self.as_of
        return deal

    def dates_out_of_order(self, rep: Rep) -> SampleDeal:
        deal = self.later_open(rep, OPEN_STAGES[1:])
        if self.rng.random() < 0.5:
            # Migrated from another CRM: the stage date survived, the created date is the import's.
            deal.stage_entered_date = deal.created_date - dt.timedelta(days=self.rng.randint(5, 40))
        else:
            # A meeting logged ahead, as done.
            deal.last_activity_date = self.days_ahead(1, 5)
        return deal

    def won_this_quarter(self, rep: Rep) -> SampleDeal:
        elapsed = (self.as_of - self.quarter.start).days
        return self.closed(rep, "Closed Won", self.quarter.start + dt.timedelta(days=self.rng.randint(0, max(elapsed - 1, 0))))

    def commit_this_quarter(self, rep: Rep) -> SampleDeal:
        stage = self.open_stage(OPEN_STAGES[3:])
        created = self.days_ago(40, 150)
        close = self.days_ahead(3, (self.quarter.end - self.as_of).days)
        return self.deal(rep, stage, created=created, close=close, entered=self.entered_within_limit(stage, created), activity=self.days_ago(0, 10))

    # The whole pipeline.

    def base_deals(self) -> list[SampleDeal]:
        kinds = [kind for kind, count in BASE_KINDS.items() for _ in range(count)]
        self.rng.shuffle(kinds)
        reps = list(REPS)
        self.rng.shuffle(reps)
        return [getattr(self, kind)(reps[index % len(reps)]) for index, kind in enumerate(kinds)]

    def attainment(self, deals: list[SampleDeal], rep: Rep) -> float:
        """Won plus probability-weighted open amount closing this quarter, as gap-to-quota counts it."""
        total = 0.0
        for deal in deals:
            if deal.rep != rep or deal.close_date is None or not self.quarter.start <= deal.close_date <= self.quarter.end:
                continue
            if deal.stage == "Closed Won":
                total += deal.amount
            elif deal.is_open:
                total += deal.amount * deal.probability / 100
        return total

    def shape_quarter(self, deals: list[SampleDeal]) -> list[SampleDeal]:
        """Add this quarter's wins and commits: on-track reps reach quota, the others stay short of it."""
        added: list[SampleDeal] = []
        for rep in REPS:
            attained = self.attainment(deals, rep)
            target = rep.team.quota * self.rng.uniform(1.05, 1.3) if rep.on_track else rep.team.quota * self.rng.uniform(0.45, 0.75)
            if not rep.on_track:
                # A rep meant to be short slips open deals out of the quarter until the quarter is short.
                for deal in [d for d in deals if d.rep == rep and d.is_open and d.close_date and d.close_date <= self.quarter.end and d.close_date >= self.as_of]:
                    if attained < target:
                        break
                    attained -= self.attainment([deal], rep)
                    deal.close_date = self.quarter.end + dt.timedelta(days=self.rng.randint(5, 60))
            for _ in range(12):
                if rep.on_track and attained >= target:
                    break
                deal = self.rng.choice((self.won_this_quarter, self.commit_this_quarter))(rep)
                contribution = self.attainment([deal], rep)
                if not rep.on_track and attained + contribution >= target:
                    continue
                added.append(deal)
                attained += contribution
            if rep.on_track != (attained >= rep.team.quota):
                raise RuntimeError(f"{rep.name}: this quarter's pipeline came out at {attained:,.0f} against quota {rep.team.quota:,}; change the seed")
        return added

    def corrupt(self, deals: list[SampleDeal]) -> None:
        """Cells a person typed into the export by hand: a UK date, a quarter, an impossible date, shorthand amounts."""
        # Only deals closing after this quarter, so the quarter shaped for gap-to-quota stays as it is.
        later = [deal for deal in deals if deal.is_open and deal.close_date and deal.close_date > self.quarter.end]
        uk_date = self.rng.choice([deal for deal in later if deal.close_date.day > 12])
        quarter, shorthand, unknown = self.rng.sample([deal for deal in later if deal is not uk_date], 3)
        uk_date.raw_cells["Close Date"] = f"{uk_date.close_date.day}/{uk_date.close_date.month}/{uk_date.close_date.year}"
        quarter.raw_cells["Close Date"] = "Q1 2027"
        shorthand.raw_cells["Amount"] = f"{shorthand.amount // 1000}k"
        unknown.raw_cells["Amount"] = "TBD"
        self.rng.choice([deal for deal in deals if not deal.is_open]).raw_cells["Created Date"] = "2/30/2026"

    def clean_later(self, deals: list[SampleDeal]) -> list[SampleDeal]:
        """Clean open deals closing after this quarter in a stage the table knows: safe to give a problem."""
        return [d for d in deals if d.stage in MAX_INACTIVE_DAYS and not d.raw_cells and d.close_date and d.close_date > self.quarter.end and d.next_step_date and d.next_step_date >= self.as_of and d.rep.active]

    def duplicate_pairs(self, deals: list[SampleDeal]) -> list[SampleDeal]:
        """The same opportunity entered again under another id, its name retyped."""
        copies = []
        candidates = self.clean_later(deals)
        # Two retyped the same (equal once case and punctuation are ignored), one with a plural typed on
        # (nearly equal: a long offering name, so that one letter more stays above the similarity option).
        originals = self.rng.sample(candidates, DUPLICATE_PAIRS - 1)
        originals.append(self.rng.choice([d for d in candidates if len(d.product) >= 18 and d not in originals]))
        retypings = (str.upper, lambda name: name.replace(" - ", ": "), lambda name: name + "s")
        for original, retype in zip(originals, retypings, strict=True):
            retyped = retype(original.name)
            copies.append(replace(original, id=self.new_id(), name=retyped, created_date=original.created_date + dt.timedelta(days=1), raw_cells={}))
        return copies

    def clump(self, deals: list[SampleDeal]) -> None:
        """One rep parks most open deals on the next quarter's last day."""
        rep = self.rng.choice([r for r in REPS if r.on_track and r.active])
        quarter_end = period_containing(self.quarter.end + dt.timedelta(days=1), "quarter").end
        for deal in [d for d in self.clean_later(deals) if d.rep == rep][:CLUMPED_DEALS]:
            deal.close_date = quarter_end

    def inflate(self, deals: list[SampleDeal]) -> None:
        """Amounts typed with two zeros too many, on deals of reps with enough open deals to compare with."""
        open_deals = Counter(d.rep for d in deals if d.is_open)
        for deal in self.rng.sample([d for d in self.clean_later(deals) if open_deals[d.rep] >= 12], OUTLIER_AMOUNTS):
            deal.amount *= 100

    def deals(self) -> list[SampleDeal]:
        deals = self.base_deals()
        deals += self.shape_quarter(deals)
        deals += self.duplicate_pairs(deals)
        self.clump(deals)
        self.inflate(deals)
        self.corrupt(deals)
        deals.sort(key=lambda deal: (deal.rep.name, deal.created_date, deal.id))
        # A report joined to contact roles repeats some opportunities (HY902): the copy lands further down.
        for original in self.rng.sample([deal for deal in deals if not deal.raw_cells], DUPLICATED_ROWS):
            position = self.rng.randint(deals.index(original) + 1, len(deals))
            deals.insert(position, replace(original, raw_cells=dict(original.raw_cells)))
        return deals


def generate_rows(seed: int = SEED) -> Iterator[list[str]]:
    yield list(COLUMNS)
    for deal in PipelineGenerator(seed).deals():
        yield deal.row()


def render_csv(rows: Iterator[list[str]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue()


def write_pipeline(path: Path, seed: int = SEED) -> Path:
    with atomic_text_writer(path, newline="") as stream:
        stream.write(render_csv(generate_rows(seed)))
    return path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="Where to write the CSV (default: examples/pipeline.csv).")
    parser.add_argument("--seed", type=int, default=SEED, help="Random seed (default: %(default)s).")
    args = parser.parse_args(argv)
    print(f"wrote {write_pipeline(args.output, args.seed)}")


if __name__ == "__main__":
    main()
