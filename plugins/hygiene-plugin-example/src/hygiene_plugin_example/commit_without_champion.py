"""EX002, a row-at-a-time rule: ``check`` looks at one deal and returns a message or None."""

from hygiene import DealRule


class CommitWithoutChampion(DealRule):
    """An open deal in the commit forecast category has no champion or no next step.

    **Why**

    A commit is a promise to the forecast. A commit deal with nobody inside
    the buyer fighting for it, or with no agreed next step, is a best case
    at most: it slips, and the quarter's number slips with it.

    The champion is the export's ``champion`` column (option
    ``champion_column``); any value counts. The forecast categories that
    count as commit are the option ``commit_categories``, compared ignoring
    case. Closed deals are not checked.

    **Example**

    An open deal with ``forecast_category = Commit``, a next step and an
    empty ``champion`` is flagged: "commit deal has no champion". One in
    the ``pipeline`` category is not.

    **Fix**

    Name the champion in the CRM and agree the next step with them, or move
    the deal out of commit.
    """

    code = "EX002"
    name = "commit-without-champion"
    summary = "Commit deal without a champion or a next step"
    severity = "warning"
    options_schema = {
        "type": "object",
        "properties": {
            "champion_column": {
                "type": "string",
                "minLength": 1,
                "default": "champion",
                "description": "The export column naming the deal's champion.",
            },
            "commit_categories": {
                "type": "array",
                "items": {"type": "string", "minLength": 1},
                "default": ["commit"],
                "description": "Forecast categories that count as commit (case does not matter).",
            },
        },
    }

    def check(self, deal, ctx):
        stage = ctx.stages.get(deal.stage)
        if stage is not None and stage.closed:
            return None
        categories = {category.casefold() for category in ctx.options["commit_categories"]}
        if (deal.forecast_category or "").strip().casefold() not in categories:
            return None
        champion = deal.extras.get(ctx.options["champion_column"])
        missing = [
            label
            for label, value in (("champion", champion), ("next step", deal.next_step))
            if not str(value or "").strip()
        ]
        return f"commit deal has no {' and no '.join(missing)}" if missing else None
