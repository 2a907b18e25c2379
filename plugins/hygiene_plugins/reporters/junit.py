"""The JUnit XML report: one test suite per rule, for Jenkins, GitLab and other CI test-report views."""

from __future__ import annotations

import polars as pl

from hygiene import NO_OWNER, Reporter, failing_expr, known_expr, subject_expr, xml_escape, xml_escape_expr

#: Ant's schema requires a host; a constant keeps the file independent of the machine that wrote it.
HOSTNAME = "localhost"
#: The test name of a rule that flagged nothing: a suite without test cases makes some CI tools
#: (Jenkins' junit step) fail a clean build for "no test results".
CLEAN_TEST_NAME = "no findings"
#: ``hygiene.CODE.OWNER``: CI views split a class name at its last dot into package (the rule) and
#: class (the owner), so a dot in an owner's name ("J. Smith") would break that grouping.
CLASSNAME = pl.concat_str(
    pl.lit("hygiene."), pl.col("code"), pl.lit("."), pl.col("owner").fill_null(NO_OWNER).str.replace_all(".", "_", literal=True)
)

#: Test cases built and written at a time, as text built by polars (see JsonReporter).
SLICE_ROWS = 50_000


def _testcase() -> pl.Expr:
    """One ``<testcase>`` element per row of :meth:`JunitReporter._test_cases`, as XML text."""
    text = pl.col("message").list.join("\n")
    reason = pl.when(pl.col("known")).then(pl.lit("known (in the baseline)")).otherwise(pl.col("severity"))
    failure = pl.concat_str(
        pl.lit('<failure type="'), xml_escape_expr("failure_type"), pl.lit('" message="'), xml_escape_expr(text),
        pl.lit('">'), xml_escape_expr(text, attribute=False), pl.lit("</failure>"),
    )
    skipped = pl.concat_str(
        pl.lit('<skipped message="'), xml_escape_expr(pl.concat_str(reason, pl.lit(": "), text)),
        pl.lit('">'), xml_escape_expr(text, attribute=False), pl.lit("</skipped>"),
    )
    return pl.concat_str(
        pl.lit('    <testcase name="'), xml_escape_expr("subject"), pl.lit('" classname="'), xml_escape_expr("classname"),
        pl.lit('" time="0">\n      '), pl.when(pl.col("failing")).then(failure).otherwise(skipped), pl.lit("\n    </testcase>\n"),
    ).alias("testcase")


TESTCASE = _testcase()


class JunitReporter(Reporter):
    """JUnit XML: one ``<testsuite>`` per rule (named by code and rule name), one ``<testcase>`` per
    flagged subject (a deal, or the owner of an owner-level finding), ``classname`` ``hygiene.CODE.OWNER``
    (dots in the owner become ``_``).

    - An error or warning finding is a ``<failure>`` whose ``type`` is the severity and whose
      message is both the ``message`` attribute and the element's text.
    - An info finding, and a finding the baseline already knows, is a ``<skipped>`` test case:
      visible in the test report, never a failed test. (Excluding known findings would hide the
      debt; failing on them would defeat the baseline.)
    - Several findings of one rule about one subject share its test case (the worst decides
      the outcome; every message is in the text).
    - A rule that flagged nothing has one passing test case, ``no findings``.

    The output is deterministic: the only date is the audit's ``as_of``, the host is ``localhost``
    and times are 0. Text is escaped by :func:`hygiene.xml_text`: characters XML 1.0 forbids, and the
    other control characters (C1, bidirectional controls), are shown as ``\\x01``-style escapes. The file validates against
    Ant's JUnit schema and the Jenkins xUnit plugin's.
    """

    name = "junit"
    shows_history = "none"
    summary = "JUnit XML: a test suite per rule, a failed test case per flagged deal (Jenkins, GitLab)"

    def write(self, report, stream) -> None:
        # Written element by element rather than built as a tree: a million findings as
        # ElementTree nodes would take several times the memory of the findings themselves.
        # The test cases are built one suite (rule) at a time, so that only one rule's
        # messages are ever gathered into lists at once.
        findings = report.findings
        rule_names = {rule.code: rule.name for rule in report.rules}
        rule_names.update(dict(findings.select("code", "rule").unique(maintain_order=True).iter_rows()))
        properties = {"source": report.source, "as_of": report.as_of.isoformat(), "period": report.period.name}
        if report.baseline_file is not None:
            properties["baseline"] = report.baseline_file
        stream.write('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites>\n')
        for index, code in enumerate(sorted(rule_names)):
            suite_cases = self._test_cases(findings.filter(pl.col("code") == code))
            self._suite(stream, index, code, rule_names[code], suite_cases if suite_cases.height else None, report, properties)
        stream.write("</testsuites>\n")

    def _test_cases(self, findings: pl.DataFrame) -> pl.DataFrame:
        """One row per (rule, subject) of ``findings``: its outcome and the messages of its findings, in report order."""
        return (
            findings.with_columns(
                subject_expr().alias("subject"),
                CLASSNAME.alias("classname"),
                (failing_expr() & ~known_expr()).alias("failing"),
                known_expr().alias("known"),
            )
            .group_by("code", "classname", "subject", maintain_order=True)
            .agg(
                pl.col("rule").first(),
                pl.col("failing").any(),
                pl.col("known").all(),
                # The worst failing severity names the failure; findings are sorted most severe first.
                pl.col("severity").filter(pl.col("failing")).first().alias("failure_type"),
                pl.col("severity").first(),
                pl.col("message"),
            )
        )

    def _suite(self, stream, index, code, rule_name, cases, report, properties) -> None:
        height = 0 if cases is None else cases.height
        failures = 0 if cases is None else int(cases["failing"].sum())
        suite = {
            "name": f"{code} {rule_name}",
            "tests": max(height, 1),  # a clean rule's one passing case
            "failures": failures,
            "errors": 0,
            "skipped": height - failures,
            "time": 0,
            "timestamp": f"{report.as_of.isoformat()}T00:00:00",
            "hostname": HOSTNAME,
            "id": index,
            "package": "hygiene",
        }
        stream.write(f"  <testsuite{_attributes(suite)}>\n    <properties>\n")
        for name, value in {**properties, "not_evaluable": report.not_evaluable.get(code, 0)}.items():
            stream.write(f"      <property{_attributes({'name': name, 'value': value})} />\n")
        stream.write("    </properties>\n")
        if not height:
            stream.write(f"    <testcase{_attributes({'name': CLEAN_TEST_NAME, 'classname': f'hygiene.{code}', 'time': 0})} />\n")
        for offset in range(0, height, SLICE_ROWS):
            stream.write("".join(cases.slice(offset, SLICE_ROWS).select(TESTCASE)["testcase"]))
        stream.write("    <system-out />\n    <system-err />\n  </testsuite>\n")


def _attributes(values: dict[str, object]) -> str:
    return "".join(f' {name}="{xml_escape(value)}"' for name, value in values.items())


