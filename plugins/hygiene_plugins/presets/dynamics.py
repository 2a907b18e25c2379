"""Dynamics 365 Sales opportunities, from "Export to Excel" of an opportunity view (or that sheet saved as CSV).

Sources:
- Opportunity columns and their display names (Topic = name, Est. Revenue
  = estimatedvalue, Est. Close Date = estimatedclosedate, Probability =
  closeprobability, Sales Stage = salesstage, Status = statecode, Status
  Reason = statuscode, Potential Customer = customerid, Owner = ownerid,
  Created On = createdon, Forecast Category = msdyn_forecastcategory,
  Source Campaign = campaignid, Status Reason = statuscode, whose values
  for a lost opportunity, Canceled and Out-Sold, say why it was lost):
  Microsoft Learn, "Opportunity table/entity reference (Dynamics 365 Sales)",
  https://learn.microsoft.com/dynamics365/developer/reference/entities/opportunity
- Status (statecode) values Open, Won, Lost; Sales Stage (salesstage) values
  Qualify, Develop, Propose, Close: the same reference. The sales process
  sets no probability per stage, so a deal's own Probability counts.
- Export to Excel adds the hidden record id column "(Do Not Modify) Opportunity":
  Microsoft Learn, "Export data to Excel" (Power Apps model-driven apps).
"""

from hygiene import DealStatus, Preset, Stage

DYNAMICS = Preset(
    name="dynamics",
    summary="Dynamics 365 Sales opportunities exported to Excel or CSV (Topic, Est. Revenue, Sales Stage, Status ...)",
    fields={
        "id": ("(Do Not Modify) Opportunity", "Opportunity", "Opportunity ID"),
        "name": ("Topic",),
        "account": ("Potential Customer", "Account"),
        "owner": ("Owner",),
        "stage": ("Sales Stage", "Pipeline Phase"),
        "amount": ("Est. Revenue",),
        "currency": ("Currency",),
        "probability": ("Probability",),
        "forecast_category": ("Forecast Category",),
        "created_date": ("Created On",),
        "close_date": ("Est. Close Date",),
        "stage_entered_date": ("Stage Entered On",),
        "last_activity_date": ("Last Activity",),
        "lost_reason": ("Status Reason",),
        # The campaign the opportunity came from (campaignid): the only source an opportunity itself records.
        "lead_source": ("Source Campaign",),
    },
    stages=(
        Stage("Qualify", None, 30),
        Stage("Develop", None, 45),
        Stage("Propose", None, 30),
        Stage("Close", None, 21),
    ),
    # Excel's own dates need none; a CSV saved from a US-locale sheet has 3/31/2026.
    date_format="%m/%d/%Y",
    status=DealStatus(column="Status", open=("open",), won=("won",), lost=("lost",)),
    forecast_categories={"Pipeline": "pipeline", "Best case": "best_case", "Committed": "commit", "Omitted": "omitted", "Won": "closed", "Lost": "closed"},
    signature=(
        "(Do Not Modify) Opportunity", "(Do Not Modify) Row Checksum", "(Do Not Modify) Modified On", "Topic",
        "Potential Customer", "Est. Revenue", "Est. Close Date", "Probability", "Sales Stage", "Status", "Owner",
        "Status Reason", "Rating", "Created On",
    ),
    references=("Microsoft Learn: Opportunity table/entity reference (Dynamics 365 Sales)", "Microsoft Learn: Export data to Excel"),
)
