"""Drawing the descriptive attributes of a batch of cases: when, what, who, how."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cases.demo import reference as ref
from cases.demo.accounts import PRE_CHURN_DAYS
from cases.demo.calendar import FIRST
from cases.demo.sampling import DAY, HOUR, choice
from cases.demo.world import World

NO_ACCOUNT_SHARE = 0.04  # consumers writing in without a customer account
HOME_TEAM_SHARE = 0.85  # the rest overflow to whichever team has capacity
CHANNEL_WEIGHTS = np.array([c.weight for c in ref.CHANNELS])
PRIORITY_WEIGHTS = np.array([w for _, w, _ in ref.PRIORITIES], dtype=np.float64)


@dataclass
class CaseDraw:
    """One row per case, sorted by ``opened``; indexes point into the World's tables."""

    opened: np.ndarray  # Unix seconds
    day: np.ndarray
    team: np.ndarray
    rep: np.ndarray
    category: np.ndarray
    channel: np.ndarray
    priority: np.ndarray
    account: np.ndarray  # -1: no account
    contact: np.ndarray
    subject: np.ndarray
    pain: np.ndarray  # opened by a churning account in its last months

    def __len__(self) -> int:
        return len(self.opened)


def draw_cases(world: World, rng: np.random.Generator, day: np.ndarray) -> CaseDraw:
    """Attributes for one case per entry of ``day`` (local day index of its opening)."""
    n = len(day)
    n_teams = len(world.teams)
    category = world.cat_sampler.sample(day, rng.random(n))
    account = world.acc_sampler.sample(day, rng.random(n))
    account[rng.random(n) < NO_ACCOUNT_SHARE] = -1
    has_account = account >= 0

    overflow = choice(rng, world.team_weight, n)
    team = np.where(
        has_account & (rng.random(n) < HOME_TEAM_SHARE), world.acc_team[account], overflow
    )
    member = world.rep_sampler.sample(day * n_teams + team, rng.random(n))
    rep = world.team_members[team, member]

    channel = choice(rng, CHANNEL_WEIGHTS, n)
    enterprise = has_account & (world.acc_segment[np.maximum(account, 0)] == 2)
    bias = world.cat_props["urgent_bias"][category] * np.where(enterprise, 1.6, 1.0)
    weights = np.broadcast_to(PRIORITY_WEIGHTS, (n, 4)).copy()
    weights[:, 2:] *= bias[:, None]
    cum = np.cumsum(weights, axis=1)
    priority = (cum < (rng.random(n) * cum[:, -1])[:, None]).sum(axis=1)

    # Local hour from the weekday/weekend profile; day is already the team's local date.
    local_date_number = world.start // DAY + day
    weekend = (local_date_number + 3) % 7 >= 5  # 1970-01-01 was a Thursday
    hour = world.hour_sampler.sample(weekend.astype(np.int64), rng.random(n))
    seconds = hour * HOUR + rng.integers(0, HOUR, n)
    opened = world.start + day * DAY + seconds - world.cal.offset[team, day - FIRST]
    # Local days at the window's edges spill past it in UTC; fold them back inside.
    opened = np.where(opened > world.now - 600, opened - DAY, opened)
    opened = np.where(opened < world.now - 730 * DAY, opened + DAY, opened)

    contact_n = np.where(has_account, world.acc_contact_n[np.maximum(account, 0)], world.consumer_n)
    contact_off = np.where(
        has_account, world.acc_contact_off[np.maximum(account, 0)], world.consumer_off
    )
    # Some people write in far more often than their colleagues.
    contact = contact_off + (contact_n * rng.random(n) ** 1.8).astype(np.int64)
    subject = world.subj_off[category] + (world.subj_n[category] * rng.random(n)).astype(np.int64)

    churn_at = np.where(has_account, world.acc_churn_at[np.maximum(account, 0)], -1)
    pain = (churn_at >= 0) & (opened >= churn_at - PRE_CHURN_DAYS * DAY) & (opened < churn_at)

    order = np.argsort(opened, kind="stable")
    return CaseDraw(
        opened=opened[order],
        day=day[order],
        team=team[order],
        rep=rep[order],
        category=category[order],
        channel=channel[order],
        priority=priority[order],
        account=account[order],
        contact=contact[order],
        subject=subject[order],
        pain=pain[order],
    )
