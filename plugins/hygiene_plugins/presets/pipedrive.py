"""Pipedrive deals, exported from the deals list (Export filter results, CSV or Excel).

Sources:
- Export headers are "<item> - <field>" labels: Deal - ID, Deal - Title,
  Deal - Value, Deal - Currency, Deal - Stage, Deal - Status (open, won,
  lost, deleted), Deal - Owner, Deal - Expected close date, Deal - Deal
  created, Deal - Last stage change, Deal - Last activity date, Deal - Next
  activity date, Deal - Probability, Deal - Organization, Deal - Lost
  reason, Deal - Product name: Pipedrive Knowledge Base, "Exporting data
  from Pipedrive" and "Import fields" (support.pipedrive.com/article/import-fields).
- Deal - Source channel and Deal - Source origin, the deal's source fields:
  Pipedrive Knowledge Base, "Source origin, source channel and source channel ID".
- A stage may mark its deals as rotting after some days without activity,
  but rotting is off by default, so the stage table leaves
  ``max_inactive_days`` to hygiene's defaults by position.
- Won and lost are statuses, not stages; the default pipeline's stages are
  Qualified, Contact Made, Demo Scheduled, Proposal Made, Negotiations
  Started: Pipedrive Knowledge Base, "Pipelines and stages". Stage
  probabilities are off by default, so the table carries none and a
  deal's own Deal - Probability counts.
"""

from hygiene import DealStatus, Preset, Stage

PIPEDRIVE = Preset(
    name="pipedrive",
    summary="Pipedrive deals exported from a list view (Deal - ID, Deal - Stage, Deal - Status ...)",
    fields={
        "id": ("Deal - ID",),
        "name": ("Deal - Title",),
        "account": ("Deal - Organization", "Organization - Name"),
        "owner": ("Deal - Owner",),
        "stage": ("Deal - Stage",),
        "amount": ("Deal - Value",),
        "currency": ("Deal - Currency",),
        "probability": ("Deal - Probability",),
        "created_date": ("Deal - Deal created",),
        "close_date": ("Deal - Expected close date",),
        "stage_entered_date": ("Deal - Last stage change",),
        "last_activity_date": ("Deal - Last activity date",),
        "next_activity_date": ("Deal - Next activity date",),
        "lost_reason": ("Deal - Lost reason",),
        # The channel the deal came through (Paid search, Referral, Event ...); "Source origin" is how the
        # record was created in Pipedrive (Manually created, Import, API), not where the business came from.
        "lead_source": ("Deal - Source channel",),
        "product": ("Deal - Product name",),
    },
    stages=(
        Stage("Qualified", None, 30),
        Stage("Contact Made", None, 30),
        Stage("Demo Scheduled", None, 30),
        Stage("Proposal Made", None, 30),
        Stage("Negotiations Started", None, 21),
    ),
    status=DealStatus(column="Deal - Status", open=("open",), won=("won",), lost=("lost", "deleted")),
    signature=(
        "Deal - ID", "Deal - Title", "Deal - Value", "Deal - Currency", "Deal - Stage", "Deal - Status", "Deal - Owner",
        "Deal - Expected close date", "Deal - Deal created", "Deal - Last stage change", "Deal - Last activity date",
        "Deal - Next activity date", "Deal - Probability", "Deal - Organization", "Deal - Pipeline",
    ),
    references=("Pipedrive Knowledge Base: Import fields", "Pipedrive Knowledge Base: Pipelines and stages"),
)
