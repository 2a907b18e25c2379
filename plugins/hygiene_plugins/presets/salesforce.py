"""Salesforce opportunities: the report export and the Data Export / API form.

Sources:
- Opportunity fields (API names ``Id``, ``StageName``, ``CloseDate``,
  ``IsClosed``, ``IsWon``, ``ForecastCategoryName``, ``LastStageChangeDate``,
  ``PushCount`` ...): Salesforce Object Reference, "Opportunity",
  https://developer.salesforce.com/docs/atlas.en-us.object_reference.meta/object_reference/sforce_api_objects_opportunity.htm
- Stage attributes (``DefaultProbability``, ``IsClosed``, ``IsWon``) and the
  forecast categories (Pipeline, Best Case, Commit, Omitted, Closed; API
  values Pipeline, BestCase, Forecast, MostLikely, Omitted, Closed):
  Salesforce Object Reference, "OpportunityStage",
  https://developer.salesforce.com/docs/platform/object-reference/references/standard-objects/object-opportunitystage.html
- The standard stages with their default probabilities, as a new org
  (the Developer Edition sample data) carries them: Prospecting 10,
  Qualification 10, Needs Analysis 20, Value Proposition 50, Id. Decision
  Makers 60, Perception Analysis 70, Proposal/Price Quote 75,
  Negotiation/Review 90, Closed Won 100, Closed Lost 0.
- Report column labels (``Opportunity Owner``, ``Close Date``,
  ``Probability (%)``, ``Last Stage Change Date``, ``Last Activity``,
  ``Next Step``, ``Lead Source``, ``Type``): the field labels of the same
  reference, as the Opportunities report type shows them.
- ``NextStep``, ``LeadSource`` and ``Type`` (New Customer, Existing
  Customer - Upgrade ...) are standard Opportunity fields, in the same
  reference. A reason for a loss is not: orgs add their own custom field
  (``Loss_Reason__c`` and the like), so neither preset guesses one. The
  Opportunity has no next-activity date (open activities are separate
  records), and products are line items: an Opportunities with Products
  report repeats each deal once per product, so ``product`` is left to
  ``[source.fields]`` too.
"""

from hygiene import DealStatus, Preset, Stage

STANDARD_STAGES = (
    Stage("Prospecting", 10, 30),
    Stage("Qualification", 10, 30),
    Stage("Needs Analysis", 20, 45),
    Stage("Value Proposition", 50, 30),
    Stage("Id. Decision Makers", 60, 30),
    Stage("Perception Analysis", 70, 30),
    Stage("Proposal/Price Quote", 75, 30),
    Stage("Negotiation/Review", 90, 21),
    Stage("Closed Won", 100, None, closed=True, won=True),
    Stage("Closed Lost", 0, None, closed=True),
)

FORECAST_CATEGORIES = {
    "Pipeline": "pipeline",
    "Best Case": "best_case",
    "BestCase": "best_case",
    "Commit": "commit",
    "Forecast": "commit",
    "MostLikely": "best_case",
    "Most Likely": "best_case",
    "Omitted": "omitted",
    "Closed": "closed",
}

REFERENCES = (
    "Salesforce Object Reference: Opportunity",
    "Salesforce Object Reference: OpportunityStage (developer.salesforce.com/docs/platform/object-reference/references/standard-objects/object-opportunitystage.html)",
)

SALESFORCE_EXPORT = Preset(
    name="salesforce-export",
    summary="Salesforce Data Export or API extract of Opportunity (Id, StageName, CloseDate, IsClosed, IsWon ...)",
    fields={
        "id": ("Id",),
        "name": ("Name",),
        # Names where the extract has them (a SOQL export with relationship fields), else the record ids,
        # which [[source.lookups]] and the roster turn into names.
        "account": ("Account.Name", "AccountId"),
        "owner": ("Owner.Name", "OwnerId"),
        "stage": ("StageName",),
        "amount": ("Amount",),
        "currency": ("CurrencyIsoCode",),
        "probability": ("Probability",),
        "forecast_category": ("ForecastCategoryName", "ForecastCategory"),
        "created_date": ("CreatedDate",),
        "close_date": ("CloseDate",),
        "stage_entered_date": ("LastStageChangeDate",),
        "last_activity_date": ("LastActivityDate",),
        "close_date_pushes": ("PushCount",),
        "next_step": ("NextStep",),
        "lead_source": ("LeadSource",),
        "deal_type": ("Type",),
    },
    stages=STANDARD_STAGES,
    status=DealStatus(closed_flag="IsClosed", won_flag="IsWon"),
    forecast_categories=FORECAST_CATEGORIES,
    signature=(
        "Id", "AccountId", "Name", "StageName", "Amount", "Probability", "CloseDate", "IsClosed", "IsWon",
        "ForecastCategory", "ForecastCategoryName", "OwnerId", "CreatedDate", "LastActivityDate",
        "LastStageChangeDate", "StageSortOrder", "ExpectedRevenue", "FiscalQuarter", "FiscalYear", "HasOpportunityLineItem",
        "NextStep", "LeadSource", "Type",
    ),
    references=REFERENCES,
)

SALESFORCE_REPORT = Preset(
    name="salesforce-report",
    summary="Salesforce Opportunities report exported as CSV or Excel (Opportunity Owner, Close Date, Probability (%) ...)",
    fields={
        "id": ("Opportunity ID", "Opportunity Id", "Record ID"),
        "name": ("Opportunity Name",),
        "account": ("Account Name",),
        "owner": ("Opportunity Owner", "Owner Name", "Owner"),
        "team": ("Owner Role",),
        "stage": ("Stage",),
        "amount": ("Amount", "Amount (converted)"),
        "currency": ("Opportunity Currency", "Amount Currency", "Currency"),
        "probability": ("Probability (%)",),
        "forecast_category": ("Forecast Category",),
        "created_date": ("Created Date",),
        "close_date": ("Close Date",),
        "stage_entered_date": ("Last Stage Change Date",),
        "last_activity_date": ("Last Activity",),
        "close_date_pushes": ("Push Count",),
        "next_step": ("Next Step",),
        "lead_source": ("Lead Source",),
        "deal_type": ("Type",),
    },
    stages=STANDARD_STAGES,
    # US-locale reports write 3/31/2026; ISO dates are still read.
    date_format="%m/%d/%Y",
    status=DealStatus(closed_flag="Closed", won_flag="Won"),
    forecast_categories=FORECAST_CATEGORIES,
    signature=(
        "Opportunity Owner", "Account Name", "Opportunity Name", "Stage", "Fiscal Period", "Amount",
        "Probability (%)", "Age", "Close Date", "Created Date", "Next Step", "Lead Source", "Type",
        "Opportunity ID", "Last Stage Change Date", "Last Activity", "Forecast Category", "Owner Role",
    ),
    references=REFERENCES,
)
