"""The JUnit XML report: one test suite per rule, for Jenkins, GitLab and other CI test-report views."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import polars as pl

from hygiene import NO_OWNER, Reporter, failing_expr, known_expr, subject_expr

#: Characters XML 1.0 forbids anywhere in a document (C0 controls but tab, CR and LF; lone surrogates;
#: U+FFFE and U+FFFF). An export may hold any of them; a parser rejects the whole file for one.
XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
REPLACEMENT = "\ufffd"
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


def xml_text(value: object) -> str:
    return XML_ILLEGAL.sub(REPLACEMENT, str(value))


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
    and times are 0. Characters XML 1.0 forbids are replaced by U+FFFD. The file validates against
    Ant's JUnit schema and the Jenkins xUnit plugin's.
    """

    name = "junit"
    summary = "JUnit XML: a test suite per rule, a failed test case per flagged deal (Jenkins, GitLab)"

    def write(self, report, stream) -> None:
        root = ET.Element("testsuites")
        cases = self._test_cases(report)
        rule_names = {rule.code: rule.name for rule in report.rules}
        rule_names.update(dict(cases.select("code", "rule").unique(maintain_order=True).iter_rows()))
        properties = {"source": report.source, "as_of": report.as_of.isoformat(), "period": report.period.name}
        if report.baseline_file is not None:
            properties["baseline"] = report.baseline_file
        by_code = cases.partition_by("code", as_dict=True, maintain_order=True)
        for index, code in enumerate(sorted(rule_names)):
            suite_cases = by_code.get((code,), cases.clear())
            self._suite(root, index, code, rule_names[code], suite_cases, report, properties)
        ET.indent(root, space="  ")
        stream.write('<?xml version="1.0" encoding="UTF-8"?>\n')
        stream.write(ET.tostring(root, encoding="unicode"))
        stream.write("\n")

    def _test_cases(self, report) -> pl.DataFrame:
        """One row per (rule, subject): its outcome and the messages of its findings, in report order."""
        return (
            report.findings.with_columns(
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

    def _suite(self, root, index, code, rule_name, cases, report, properties) -> None:
        failures = int(cases["failing"].sum())
        tests = max(cases.height, 1)  # a clean rule's one passing case
        suite = ET.SubElement(
            root,
            "testsuite",
            {
                "name": xml_text(f"{code} {rule_name}"),
                "tests": str(tests),
                "failures": str(failures),
                "errors": "0",
                "skipped": str(cases.height - failures),
                "time": "0",
                "timestamp": f"{report.as_of.isoformat()}T00:00:00",
                "hostname": HOSTNAME,
                "id": str(index),
                "package": "hygiene",
            },
        )
        suite_properties = {**properties, "not_evaluable": str(report.not_evaluable.get(code, 0))}
        property_list = ET.SubElement(suite, "properties")
        for name, value in suite_properties.items():
            ET.SubElement(property_list, "property", {"name": name, "value": xml_text(value)})
        if not cases.height:
            ET.SubElement(suite, "testcase", {"name": CLEAN_TEST_NAME, "classname": f"hygiene.{code}", "time": "0"})
        for case in cases.iter_rows(named=True):
            testcase = ET.SubElement(suite, "testcase", {"name": xml_text(case["subject"]), "classname": xml_text(case["classname"]), "time": "0"})
            text = xml_text("\n".join(case["message"]))
            if case["failing"]:
                ET.SubElement(testcase, "failure", {"type": case["failure_type"], "message": text}).text = text
            else:
                reason = "known (in the baseline)" if case["known"] else case["severity"]
                ET.SubElement(testcase, "skipped", {"message": f"{reason}: {text}"}).text = text
        ET.SubElement(suite, "system-out")
        ET.SubElement(suite, "system-err")
