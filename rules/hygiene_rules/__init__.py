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
from hygiene_rules.no_recent_activity import NoRecentActivity
from hygiene_rules.no_scheduled_activity import NoScheduledActivity
from hygiene_rules.next_step_missing import NextStepMissing
from hygiene_rules.vague_next_step import VagueNextStep
from hygiene_rules.commit_in_early_stage import CommitInEarlyStage
from hygiene_rules.probability_stage_mismatch import ProbabilityStageMismatch
from hygiene_rules.far_out_close_date import FarOutCloseDate
from hygiene_rules.close_too_soon_for_stage import CloseTooSoonForStage
from hygiene_rules.single_threaded import SingleThreaded
from hygiene_rules.amount_missing import AmountMissing
from hygiene_rules.amount_outlier import AmountOutlier
from hygiene_rules.placeholder_deal import PlaceholderDeal
from hygiene_rules.close_date_clumping import CloseDateClumping
from hygiene_rules.possible_duplicate import PossibleDuplicate
from hygiene_rules.closed_record_integrity import ClosedRecordIntegrity
from hygiene_rules.dates_out_of_order import DatesOutOfOrder
from hygiene_rules.owner_inactive import OwnerInactive

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
    NoRecentActivity,
    NoScheduledActivity,
    NextStepMissing,
    VagueNextStep,
    CommitInEarlyStage,
    ProbabilityStageMismatch,
    FarOutCloseDate,
    CloseTooSoonForStage,
    SingleThreaded,
    AmountMissing,
    AmountOutlier,
    PlaceholderDeal,
    CloseDateClumping,
    PossibleDuplicate,
    ClosedRecordIntegrity,
    DatesOutOfOrder,
    OwnerInactive,
    InvalidValue,
    UnknownStage,
    DuplicateDealId,
    UnusedWaiver,
    ExpiredWaiver,
]


@hookimpl
def hygiene_register_rules():
    return list(BUILTIN_RULES)
