"""The chat reporter, through the command line as a CI job runs it."""

import json

from hygiene import __version__

DEALS = [
    {"id": "D1", "name": "Acme", "owner": "Ada", "stage": "Proposal", "close_date": "2026-06-30", "discount": "35"},
    {"id": "D2", "name": "Globex", "owner": "Bob", "stage": "Negotiation", "close_date": "2026-06-30",
     "forecast_category": "commit", "discount": "10"},
    {"id": "D3", "name": "Initech", "owner": "Bob", "stage": "Closed Won", "close_date": "2026-01-31"},
]


def test_the_chat_message_counts_scores_and_quotes_the_findings(make_deals, hygiene_cli, tmp_path):
    make_deals(DEALS)

    result = hygiene_cli("audit", "deals.csv", "--as-of", "2026-03-31", "--select", "EX", "--format", "chat:chat.json")

    assert result.exit_code == 0, result.output
    message = json.loads((tmp_path / "chat.json").read_text(encoding="utf-8"))
    assert message["text"] == "Pipeline hygiene as of 2026-03-31: 2 findings in 3 deals (2 warnings)"
    assert [block["type"] for block in message["blocks"]] == ["header", "section", "section", "context"]
    assert message["blocks"][1]["text"]["text"] == (
        "*2 findings in 3 deals* (2 open)\n• 2 warnings\nHygiene score: 0.0% of open deals are clean"
    )
    assert message["blocks"][2]["text"]["text"] == (
        "*Most severe findings*\n"
        "• `EX001` D1: 35.0% discount without approval (limit 20%)\n"
        "• `EX002` D2: commit deal has no champion and no next step"
    )
    assert message["blocks"][3]["elements"][0]["text"] == f"deals.csv · hygiene {__version__}"


def test_text_from_the_export_cannot_become_chat_markup(make_deals, hygiene_cli, tmp_path):
    make_deals([{"id": "<!here>", "stage": "Proposal", "forecast_category": "commit"}])

    hygiene_cli("audit", "deals.csv", "--as-of", "2026-03-31", "--select", "EX002", "--format", "chat:chat.json")

    message = json.loads((tmp_path / "chat.json").read_text(encoding="utf-8"))
    assert "• `EX002` &lt;!here&gt;: commit deal" in message["blocks"][2]["text"]["text"]
