"""A reporter: the audit as one chat message (Slack's Block Kit JSON), for a webhook to post."""

from __future__ import annotations

import itertools
import json

from hygiene import Reporter, json_text

#: Findings quoted in the message; the rest are counted.
TOP_FINDINGS = 5


def plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def escape(text: str) -> str:
    """Text from the export, made inert: Slack reads ``<!channel>`` or ``<url|label>`` as markup."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class ChatSummaryReporter(Reporter):
    """Counts, the hygiene score and the most severe findings, as a chat message payload.

    ``hygiene audit --format chat:message.json`` writes it; a CI step posts
    the file to a Slack incoming webhook (``curl -d @message.json URL``).
    ``text`` is the notification line, ``blocks`` the message itself.
    """

    name = "chat"
    summary = "A chat message (Slack Block Kit JSON) with counts, score and top findings"

    def write(self, report, stream) -> None:
        summary = report.summary()
        counts = ", ".join(plural(n, severity) for severity, n in summary["by_severity"].items() if n)
        headline = f"{plural(summary['findings'], 'finding')} in {plural(summary['deals'], 'deal')}"
        text = f"Pipeline hygiene as of {report.as_of.isoformat()}: {headline}" + (f" ({counts})" if counts else "")
        score = summary["score"]["overall"]
        overview = [f"*{headline}* ({summary['open_deals']} open)"]
        overview += [f"• {plural(n, severity)}" for severity, n in summary["by_severity"].items() if n]
        if score is not None:
            overview.append(f"Hygiene score: {score:.1%} of open deals are clean")
        blocks = [
            {"type": "header", "text": {"type": "plain_text", "text": f"Pipeline hygiene, {report.as_of.isoformat()}"}},
            {"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(overview)}},
        ]
        top = list(itertools.islice(report.iter_findings(), TOP_FINDINGS))
        if top:
            lines = ["*Most severe findings*"] + [f"• `{f.code}` {escape(f.deal_id or f.owner or '(audit)')}: {escape(f.message)}" for f in top]
            if summary["findings"] > len(top):
                lines.append(f"… and {summary['findings'] - len(top)} more")
            blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(lines)}})
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": f"{escape(report.source)} · hygiene {report.tool_version}"}]})
        # json_text: C1 and bidi controls from the export as \u escapes, so a chat client cannot be tricked by them.
        stream.write(json_text(json.dumps({"text": text, "blocks": blocks}, indent=2, ensure_ascii=False)) + "\n")
