"""An example hygiene plugin: what a team's own rules and reporter look like as a package.

It registers two rules, one of each form a deal rule can take, and one
reporter. The ``hygiene`` entry point in ``pyproject.toml`` names this
module, so installing the package is all it takes for ``hygiene`` to load it.
"""

from hygiene import hookimpl

from hygiene_plugin_example.chat_summary import ChatSummaryReporter
from hygiene_plugin_example.commit_without_champion import CommitWithoutChampion
from hygiene_plugin_example.discount_without_approval import DiscountWithoutApproval


@hookimpl
def hygiene_register_rules():
    return [DiscountWithoutApproval, CommitWithoutChampion]


@hookimpl
def hygiene_register_reporters():
    return [ChatSummaryReporter]
