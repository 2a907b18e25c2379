"""Zoho CRM deals, exported from the Deals module (Setup > Data Administration > Export, or a list view).

Sources:
- Standard Deals fields (Record Id, Deal Name, Account Name, Stage,
  Closing Date, Amount, Deal Owner, Created Time, Probability (%), Type,
  Lead Source, Next Step, Reason For Loss, Last Activity Time): Zoho CRM
  Help, "Standard fields of the Deals module" (linked from "Creating Deals",
  help.zoho.com/portal/kb/articles/create-deals).
- Stage-probability mapping, where each stage has a probability and a deal
  category (open, closed won, closed lost); the system-defined stages are
  Qualification, Needs Analysis, Value Proposition, Id. Decision Makers,
  Perception Analysis, Proposal/Price Quote, Negotiation/Review, Closed Won,
  Closed Lost and Closed Lost to Competition: Zoho CRM Help, "Creating
  Deals" (section "Map Stage-Probability values").
"""

from hygiene import Preset, Stage

ZOHO = Preset(
    name="zoho",
    summary="Zoho CRM deals export (Record Id, Deal Name, Stage, Closing Date, Deal Owner ...)",
    fields={
        "id": ("Record Id", "Deal Id", "Id"),
        "name": ("Deal Name",),
        "account": ("Account Name",),
        "owner": ("Deal Owner",),
        "stage": ("Stage",),
        "amount": ("Amount",),
        "currency": ("Currency",),
        "probability": ("Probability (%)", "Probability"),
        "forecast_category": ("Forecast Category",),
        "created_date": ("Created Time",),
        "close_date": ("Closing Date",),
        "last_activity_date": ("Last Activity Time",),
        "next_step": ("Next Step",),
        "lead_source": ("Lead Source",),
        "deal_type": ("Type",),
        "lost_reason": ("Reason For Loss",),
    },
    stages=(
        Stage("Qualification", 10, 30),
        Stage("Needs Analysis", 20, 30),
        Stage("Value Proposition", 40, 30),
        Stage("Id. Decision Makers", 60, 30),
        Stage("Perception Analysis", 70, 30),
        Stage("Proposal/Price Quote", 75, 30),
        Stage("Negotiation/Review", 90, 21),
        Stage("Closed Won", 100, None, closed=True, won=True),
        Stage("Closed Lost", 0, None, closed=True),
        Stage("Closed Lost to Competition", 0, None, closed=True),
    ),
    forecast_categories={"Pipeline": "pipeline", "Best Case": "best_case", "Committed": "commit", "Commit": "commit", "Omitted": "omitted", "Closed": "closed"},
    signature=(
        "Record Id", "Deal Name", "Account Name", "Stage", "Closing Date", "Amount", "Deal Owner", "Created Time",
        "Probability (%)", "Expected Revenue", "Modified Time", "Lead Source", "Next Step", "Contact Name",
    ),
    references=("Zoho CRM Help: Creating Deals (help.zoho.com/portal/kb/articles/create-deals)",),
)
