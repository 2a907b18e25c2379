"""The built-in rules of hygiene, registered through the ``hygiene`` entry-point group."""

from hygiene import hookimpl

from hygiene_rules.amount_dropped import AmountDropped
from hygiene_rules.big_push import BigPush
from hygiene_rules.duplicate_deal_id import DuplicateDealId
from hygiene_rules.expired_waiver import ExpiredWaiver
from hygiene_rules.gap_to_quota import GapToQuota
from hygiene_rules.invalid_value import InvalidValue
from hygiene_rules.missing_close_date import MissingCloseDate
from hygiene_rules.no_movement import NoMovement
from hygiene_rules.past_due_close_date import PastDueCloseDate
from hygiene_rules.ruthless_drop import RuthlessDrop
from hygiene_rules.serial_slippage import SerialSlippage
from hygiene_rules.slipped_out_of_period import SlippedOutOfPeriod
from hygiene_rules.stage_regressed import StageRegressed
from hygiene_rules.stale_stage import StaleStage
from hygiene_rules.unknown_stage import UnknownStage
from hygiene_rules.unused_waiver import UnusedWaiver

BUILTIN_RULES = [
    StaleStage,
    MissingCloseDate,
    PastDueCloseDate,
    GapToQuota,
    RuthlessDrop,
    SlippedOutOfPeriod,
    SerialSlippage,
    BigPush,
    AmountDropped,
    StageRegressed,
    NoMovement,
    InvalidValue,
    UnknownStage,
    DuplicateDealId,
    UnusedWaiver,
    ExpiredWaiver,
]


@hookimpl
def hygiene_register_rules():
    return list(BUILTIN_RULES)
