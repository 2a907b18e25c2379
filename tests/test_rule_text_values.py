"""The built-in rules' shared text helpers give what the straightforward expressions give, value for value."""

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from hygiene_rules.text_values import comparable_text, per_distinct_value

#: Letters, digits, spaces, tabs, punctuation and a few non-ASCII characters, the text CRM names are made of.
TEXT = st.one_of(st.none(), st.text(alphabet=st.sampled_from(list("aZ09 \t\n-_.,/()&'é İßÆ€")), max_size=30))


def straightforward(text: pl.Expr) -> pl.Expr:
    return text.str.to_lowercase().str.replace_all(r"[^\p{L}\p{N}]+", " ").str.strip_chars()


@settings(max_examples=300, deadline=None)
@given(st.lists(TEXT, max_size=20))
def test_comparable_text_is_every_run_of_non_letters_made_one_space(values):
    frame = pl.DataFrame({"text": values}, schema={"text": pl.String})
    assert frame.select(comparable_text(pl.col("text"))).to_series().to_list() == frame.select(straightforward(pl.col("text"))).to_series().to_list()


def test_comparable_text_examples():
    frame = pl.DataFrame({"text": ["ACME Corp.", " Acme -- corp ", "acme\tcorp", "a", "--", None]})
    assert frame.select(comparable_text(pl.col("text"))).to_series().to_list() == ["acme corp", "acme corp", "acme corp", "a", "", None]


@settings(max_examples=200, deadline=None)
@given(st.lists(TEXT, max_size=30))
def test_per_distinct_value_is_the_test_on_every_row(values):
    frame = pl.DataFrame({"text": values}, schema={"text": pl.String})
    for test in (comparable_text, lambda text: text.str.len_chars() < 3, lambda text: text.str.contains("(?i)a|0")):
        expected = frame.select(test(pl.col("text"))).to_series().to_list()
        assert frame.select(per_distinct_value("text", test)).to_series().to_list() == expected
        # The same on the streaming engine, after a filter, as the engine collects rules' plans.
        lazy = frame.lazy().with_row_index("i").with_columns(per_distinct_value("text", test).alias("r")).filter(pl.col("i") % 2 == 0)
        assert lazy.collect(engine="streaming").get_column("r").to_list() == expected[::2]
