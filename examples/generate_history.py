"""Write the two weekly exports before the sample pipeline, for the history example in the README.

    python examples/generate_history.py      # examples/history/pipeline-2026-11-02.csv and -11-09.csv

The third week is ``examples/pipeline.csv`` itself (the sample's ``as_of``,
2026-11-16). The two before it are that pipeline one and two weeks earlier, worked
back by fixed rules (no randomness, no clock), so the history shows every
kind of change the change rules and ``hygiene flow`` look at:

- every tenth open deal had its close date pushed twice (35 days, then 14
  more days, between the weeks), and the last pushes of the lot add up past
  ``big-push``'s limits;
- another tenth was 30% larger in the earlier weeks (``amount-dropped``);
- Proposal deals of a third tenth were in Negotiation the week before
  (``stage-regressed``);
- closed deals of a fourth tenth were still open in Negotiation earlier (won
  and lost in the waterfall);
- a fifth tenth did not exist two weeks ago (created).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
from pathlib import Path

HERE = Path(__file__).resolve().parent
WEEKS = (dt.date(2026, 11, 2), dt.date(2026, 11, 9))
DATE_FORMAT = "%m/%d/%Y"
CLOSED = ("Closed Won", "Closed Lost")


def bucket(deal_id: str) -> int:
    """A fixed tenth of the deals for each kind of change: the first digit of the id's SHA-256."""
    return int(hashlib.sha256(deal_id.encode("utf-8")).hexdigest()[0], 16) % 10


def parse(text: str) -> dt.date | None:
    """The cell's date; None when it is empty or not a date (the sample's unreadable cells stay as they are)."""
    try:
        return dt.datetime.strptime(text, DATE_FORMAT).date() if text else None
    except ValueError:
        return None


def number(text: str) -> float | None:
    """The cell's amount; None when it is empty or not a number ("TBD")."""
    try:
        return float(text) if text else None
    except ValueError:
        return None


def shown(day: dt.date | None) -> str:
    return f"{day.month}/{day.day}/{day.year}" if day else ""


def earlier(row: dict[str, str], weeks_back: int) -> dict[str, str] | None:
    """The deal ``weeks_back`` weeks before the newest export (None: it did not exist yet)."""
    row = dict(row)
    kind = bucket(row["Opportunity ID"])
    is_open = row["Stage"] not in CLOSED
    if kind == 0 and is_open and (close := parse(row["Close Date"])):
        row["Close Date"] = shown(close - dt.timedelta(days=(0, 14, 49)[weeks_back]))
    elif kind == 1 and is_open and (amount := number(row["Amount"])) is not None:
        row["Amount"] = str(round(amount * 1.3))
    elif kind == 2 and row["Stage"] == "Proposal" and weeks_back >= 1:
        row["Stage"], row["Probability (%)"], row["Forecast Category"] = "Negotiation", "80", "Commit"
    elif kind == 3 and not is_open:
        row["Stage"], row["Probability (%)"], row["Forecast Category"] = "Negotiation", "80", "Commit"
    elif kind == 4 and weeks_back == 2:
        return None
    return row


def write_history(folder: Path = HERE / "history") -> list[Path]:
    with (HERE / "pipeline.csv").open(encoding="utf-8", newline="") as stream:
        reader = csv.DictReader(stream)
        header, rows = reader.fieldnames, list(reader)
    folder.mkdir(exist_ok=True)
    written = []
    for weeks_back, week in zip((2, 1), WEEKS):
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=header, lineterminator="\n")
        writer.writeheader()
        writer.writerows(r for r in (earlier(row, weeks_back) for row in rows) if r is not None)
        path = folder / f"pipeline-{week.isoformat()}.csv"
        path.write_text(out.getvalue(), encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":
    for path in write_history():
        print(f"wrote {path.relative_to(HERE.parent)}")
