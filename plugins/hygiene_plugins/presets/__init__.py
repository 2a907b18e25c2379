"""Built-in CRM presets: Salesforce (report and data export), HubSpot, Pipedrive, Zoho CRM, Dynamics 365.

Each module describes one CRM's export from its public documentation,
named in the module. They register exactly like a team's own preset.
"""

from hygiene import hookimpl
from hygiene_plugins.presets.dynamics import DYNAMICS
from hygiene_plugins.presets.hubspot import HUBSPOT
from hygiene_plugins.presets.pipedrive import PIPEDRIVE
from hygiene_plugins.presets.salesforce import SALESFORCE_EXPORT, SALESFORCE_REPORT
from hygiene_plugins.presets.zoho import ZOHO


@hookimpl
def hygiene_register_presets():
    return [SALESFORCE_REPORT, SALESFORCE_EXPORT, HUBSPOT, PIPEDRIVE, ZOHO, DYNAMICS]
