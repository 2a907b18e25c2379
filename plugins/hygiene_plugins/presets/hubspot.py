"""HubSpot deals, exported from the deals index page ("Export view").

Sources:
- Export headers are the deal property labels: Record ID, Deal Name, Deal
  Stage, Pipeline, Amount, Close Date, Create Date, Deal owner, Last
  Activity Date, Deal probability, Forecast category, HubSpot Team, Next
  step, Next Activity Date, Deal Type (New Business, Existing Business),
  Closed Lost Reason, Number of Associated Contacts, Original Source Type
  (the deal's Original source, from its contacts'), and one
  ``Date entered "<stage> (<pipeline>)"`` column per stage: HubSpot
  Knowledge Base, "HubSpot's default deal properties",
  https://knowledge.hubspot.com/properties/hubspots-default-deal-properties
- The default sales pipeline and its win probabilities: Appointment
  Scheduled 20%, Qualified To Buy 40%, Presentation Scheduled 60%, Decision
  Maker Bought-In 80%, Contract Sent 90%, Closed Won 100%, Closed Lost 0%:
  HubSpot Knowledge Base, "Set up and customize your deal pipelines and deal
  stages" (also listed in "HubSpot Deal Stages", hublead.io/blog/hubspot-deal-stages).
- Forecast categories (Not forecasted, Pipeline, Best case, Commit, Closed
  won): HubSpot Knowledge Base, "Forecast category".
- Source values (Organic search, Paid search, Email marketing, Organic
  social, Referrals, Other campaigns, Direct traffic, Offline sources, Paid
  social), and deals' source properties based on their contacts': HubSpot
  Knowledge Base, "Understand Original and Latest source properties"
  (knowledge.hubspot.com/properties/understand-source-properties). Newer
  portals label the property Original Traffic Source, so that label is
  read too.
"""

from hygiene import Preset, Stage

HUBSPOT = Preset(
    name="hubspot",
    summary="HubSpot deals exported from a deals view (Record ID, Deal Stage, Deal owner, Date entered ...)",
    fields={
        "id": ("Record ID", "Deal ID", "hs_object_id"),
        "name": ("Deal Name", "dealname"),
        "account": ("Associated Company", "Associated Company (Primary)", "Company name"),
        "owner": ("Deal owner", "hubspot_owner_id"),
        "team": ("HubSpot Team",),
        "stage": ("Deal Stage", "dealstage"),
        "amount": ("Amount", "Amount in company currency"),
        "currency": ("Currency", "Deal currency code"),
        "probability": ("Deal probability", "hs_deal_stage_probability"),
        "forecast_category": ("Forecast category", "hs_manual_forecast_category"),
        "created_date": ("Create Date", "createdate"),
        "close_date": ("Close Date", "closedate"),
        "stage_entered_date": ("Date entered current stage",),
        "last_activity_date": ("Last Activity Date", "notes_last_updated"),
        "contacts": ("Number of Associated Contacts", "num_associated_contacts"),
        "next_step": ("Next step", "hs_next_step"),
        "next_activity_date": ("Next Activity Date", "notes_next_activity_date"),
        "lead_source": ("Original Source Type", "Original Traffic Source", "hs_analytics_source"),
        "deal_type": ("Deal Type", "dealtype"),
        "lost_reason": ("Closed Lost Reason", "closed_lost_reason"),
    },
    stages=(
        Stage("Appointment Scheduled", 20, 30),
        Stage("Qualified To Buy", 40, 30),
        Stage("Presentation Scheduled", 60, 30),
        Stage("Decision Maker Bought-In", 80, 30),
        Stage("Contract Sent", 90, 21),
        Stage("Closed Won", 100, None, closed=True, won=True),
        Stage("Closed Lost", 0, None, closed=True),
    ),
    stage_entered_columns='Date entered "{stage} ({pipeline})"',
    pipeline_column="Pipeline",
    forecast_categories={
        "Not forecasted": "omitted",
        "Omitted": "omitted",
        "Pipeline": "pipeline",
        "Best case": "best_case",
        "Commit": "commit",
        "Closed won": "closed",
        "Closed": "closed",
    },
    signature=(
        "Record ID", "Deal Name", "Deal Stage", "Pipeline", "Amount", "Close Date", "Create Date", "Deal owner",
        "Last Activity Date", "Deal probability", "Forecast category", "Associated Company", "HubSpot Team", "Deal Type",
    ),
    references=("HubSpot Knowledge Base: HubSpot's default deal properties", "HubSpot Knowledge Base: Set up and customize your deal pipelines and deal stages"),
)
