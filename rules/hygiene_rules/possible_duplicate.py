import polars as pl

from hygiene import ROW_COLUMN, PipelineRule

from hygiene_rules.text_values import comparable_text, per_distinct_value

#: Most ids a finding names; the rest are counted.
MAX_IDS_SHOWN = 5


def normalised_name(account: pl.Expr) -> pl.Expr:
    """A deal name for comparing: :func:`comparable_text`, without its account's name (``account``, comparable text too)."""
    name = comparable_text(pl.col("name"))
    without_account = name.str.strip_prefix(account).str.strip_suffix(account).str.strip_chars()
    # A name that is only the account's name stays itself: "" would make every such deal equal.
    return pl.when(without_account == "").then(name).otherwise(without_account)


class PossibleDuplicate(PipelineRule):
    """Two open deals of the same account have the same, or nearly the same, name.

    **Why**

    The same opportunity entered twice (by two reps, or by a rep and an
    integration) doubles its amount in the pipeline and splits its history.
    Catching the pair early is cheap; untangling it at quarter end is not.

    Open deals are compared within their account (matched ignoring case
    and punctuation), so the work grows with the size of an account's
    pipeline, not the square of the whole export. Names are normalised:
    lower case, punctuation as spaces, the account's own name removed
    ("Acme - Renewal 2026" and "Renewal 2026" of account Acme are equal).
    Two deals are possible duplicates when their normalised names are
    equal, or, with ``similarity`` below 1 (the default is 1: equal names
    only), when the Jaccard similarity of their sets of three-character
    slices is at least ``similarity``; 0.85 finds names retyped with a
    plural or a typo. Comparing near-equal names costs far more than
    grouping equal ones (see the README's Performance section), hence the
    default. Near-equal names are looked
    for among each deal's ``window`` neighbours in the account's names
    sorted alphabetically, and sorted by their reversed text (a sorted
    neighbourhood: names that differ at the end sort together, names that
    differ at the start sort together reversed); names whose lengths differ
    by more than the similarity allows are not compared. Both deals of a pair are
    reported, each naming the other. Open deals without an account or a
    name are not evaluable.

    **Example**

    For account "Acme Corp": "Acme Corp - Platform Subscription" and
    "ACME Corp: platform subscription" are equal once normalised: flagged.
    "Platform Subscription" and "Platform Subscriptions" have a similarity
    of 0.87: flagged with ``similarity = 0.85``. "Platform" and "Support
    Renewal" are not.

    **Fix**

    Merge the two records in the CRM (keeping the history of both), or
    rename them so their names say how they differ.
    """

    code = "HY054"
    name = "possible-duplicate"
    summary = "Two open deals of the same account with equal or nearly equal names"
    severity = "warning"
    group = "data quality"
    weight = 10
    options_schema = {
        "type": "object",
        "properties": {
            "similarity": {
                "type": "number",
                "minimum": 0,
                "maximum": 1,
                "default": 1,
                "description": "Jaccard similarity of the names' three-character slices from which two names are nearly equal; 1 (the default) compares equal names only, 0.85 also finds retyped ones.",
            },
            "window": {
                "type": "integer",
                "minimum": 1,
                "default": 1,
                "description": "Neighbours on each side (in sorted order within the account) each name is compared with.",
            },
        },
    }

    def check(self, deals: pl.DataFrame, ctx) -> pl.DataFrame:
        candidates = deals.lazy().filter(ctx.is_open & pl.col("account").is_not_null() & pl.col("name").is_not_null())
        # An account has many deals: its name is made comparable once, not once per deal.
        base = (
            candidates.select("id", "name", per_distinct_value("account", comparable_text).alias("block"))
            .select("id", "block", normalised_name(pl.col("block")).alias("key"))
            .collect()
        )
        others = pl.concat([_equal_names(base), _similar_names(base, ctx.options)], how="vertical")
        per_deal = (
            others.group_by("deal_id")
            .agg(
                pl.col("shown").explode().unique().sort().alias("duplicates"),
                pl.col("count").sum().alias("count"),
                pl.col("similarity").max().alias("similarity"),
            )
            .with_columns(pl.col("duplicates").list.head(MAX_IDS_SHOWN))
            .sort("deal_id")
        )
        hidden = pl.col("count") - pl.col("duplicates").list.len()
        message = pl.concat_str(
            [
                pl.lit("possible duplicate of "),
                pl.col("duplicates").list.join(", "),
                pl.when(hidden > 0).then(pl.concat_str([pl.lit(" and "), hidden.cast(pl.String), pl.lit(" more")])).otherwise(pl.lit("")),
                pl.lit(" (same account, "),
                pl.when(pl.col("similarity") >= 1)
                .then(pl.lit("same name"))
                .otherwise(pl.concat_str([pl.lit("name similarity "), pl.col("similarity").round(2).cast(pl.String)])),
                pl.lit(")"),
            ]
        )
        # The few flagged deals' columns, without hashing the whole deal table for a join.
        flagged = deals.select("id", "name", "owner", ROW_COLUMN, "amount").filter(pl.col("id").is_in(per_deal.get_column("deal_id").implode()))
        return per_deal.join(flagged, left_on="deal_id", right_on="id", how="left", maintain_order="left_right").select(
            "deal_id",
            pl.col("name").alias("deal_name"),
            "owner",
            pl.col(ROW_COLUMN).alias("row"),
            "amount",
            message.alias("message"),
            pl.struct(pl.col("duplicates"), pl.col("count").alias("duplicate_count"), pl.col("similarity").round(4)).alias("details"),
        )

    def not_evaluable(self, ctx) -> dict[str, pl.Expr]:
        return {"account": ctx.is_open & pl.col("account").is_null(), "name": ctx.is_open & pl.col("name").is_null()}


#: Columns of the partial results: a deal, some of its duplicates' ids, how many it has, the best similarity.
OTHERS_SCHEMA = {"deal_id": pl.String, "shown": pl.List(pl.String), "count": pl.Int64, "similarity": pl.Float64}


def _equal_names(base: pl.DataFrame) -> pl.DataFrame:
    """Deals whose account and normalised name another deal shares.

    Each member of a group of n names its first few fellow members (by id)
    and counts n - 1: a group costs n rows, never n squared pairs.
    """
    # Equal names hash equal: a hash of each deal's texts, one integer, leaves the few deals
    # that may share a name for the grouping by the texts themselves, which decides.
    maybe_shared = base.filter((pl.col("block").hash() ^ pl.col("key").hash()).is_duplicated())
    shared = maybe_shared.filter(pl.len().over("block", "key") > 1)
    groups = shared.group_by("block", "key").agg(pl.col("id").sort().alias("ids"), pl.len().alias("size"))
    members = groups.with_columns(pl.col("ids").list.head(MAX_IDS_SHOWN + 1).alias("first")).explode("ids")
    return members.select(
        pl.col("ids").alias("deal_id"),
        pl.col("first").list.set_difference(pl.concat_list(pl.col("ids"))).list.head(MAX_IDS_SHOWN).alias("shown"),
        (pl.col("size") - 1).cast(pl.Int64).alias("count"),
        pl.lit(1.0).alias("similarity"),
    ).cast(OTHERS_SCHEMA)


def _neighbours(distinct: pl.DataFrame, window: int) -> pl.DataFrame:
    """Pairs of distinct names of one account that sort within ``window`` of each other, forwards or reversed."""
    candidates = []
    reversed_keys = distinct.with_columns(pl.col("key").str.reverse().alias("reversed"))
    for order in ("key", "reversed"):
        ordered = reversed_keys.sort("block", order)
        for step in range(1, window + 1):
            shifted = ordered.select("block", pl.col("key").alias("a"), pl.col("key").shift(-step).alias("b"), pl.col("block").shift(-step).alias("next"))
            candidates.append(shifted.filter(pl.col("b").is_not_null() & (pl.col("block") == pl.col("next"))).select("block", "a", "b"))
    return pl.concat(candidates).select("block", pl.min_horizontal("a", "b").alias("a"), pl.max_horizontal("a", "b").alias("b")).unique()


def _trigrams(texts: pl.Series) -> pl.DataFrame:
    """Each text with the set of its three-character slices (padded with a space at each end)."""
    frame = pl.DataFrame({"text": texts.unique()}).with_columns(pl.concat_str([pl.lit(" "), pl.col("text"), pl.lit(" ")]).alias("padded"))
    offsets = frame.with_columns(pl.int_ranges(0, (pl.col("padded").str.len_chars() - 2).clip(lower_bound=1)).alias("offset")).explode("offset")
    return offsets.group_by("text").agg(pl.col("padded").str.slice(pl.col("offset"), 3).unique().alias("grams"))


def _similar_names(base: pl.DataFrame, options) -> pl.DataFrame:
    """Deals whose normalised name is nearly, not exactly, another's of the same account."""
    threshold, window = options["similarity"], options["window"]
    if threshold >= 1 or base.height < 2:
        return pl.DataFrame(schema=OTHERS_SCHEMA)
    pairs = _neighbours(base.unique(["block", "key"]).select("block", "key"), window)
    # Nearly equal names have nearly equal lengths: pairs further apart are not worth slicing up.
    longer = pl.max_horizontal(pl.col("a").str.len_chars(), pl.col("b").str.len_chars())
    shorter = pl.min_horizontal(pl.col("a").str.len_chars(), pl.col("b").str.len_chars())
    pairs = pairs.filter(shorter >= threshold * longer - 2)
    if not pairs.height:
        return pl.DataFrame(schema=OTHERS_SCHEMA)
    grams = _trigrams(pl.concat([pairs.get_column("a"), pairs.get_column("b")]))
    scored = (
        pairs.join(grams.rename({"text": "a", "grams": "ga"}), on="a")
        .join(grams.rename({"text": "b", "grams": "gb"}), on="b")
        .with_columns(
            (pl.col("ga").list.set_intersection("gb").list.len() / pl.col("ga").list.set_union("gb").list.len()).alias("similarity")
        )
        .filter(pl.col("similarity") >= threshold)
        .select("block", "a", "b", "similarity")
    )
    ids = base.select("block", "key", "id")
    linked = scored.join(ids.rename({"key": "a", "id": "left"}), on=["block", "a"]).join(ids.rename({"key": "b", "id": "right"}), on=["block", "b"])
    both = pl.concat(
        [
            linked.select(pl.col("left").alias("deal_id"), pl.col("right").alias("other"), "similarity"),
            linked.select(pl.col("right").alias("deal_id"), pl.col("left").alias("other"), "similarity"),
        ]
    )
    return (
        both.group_by("deal_id")
        .agg(pl.col("other").sort().head(MAX_IDS_SHOWN).alias("shown"), pl.len().alias("count"), pl.col("similarity").max())
        .cast(OTHERS_SCHEMA)
    )
