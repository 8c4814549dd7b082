"""Case histories: each case's events, the fold of those events, and survey answers.

A case is planned as a head (``created``, ``assigned``) followed by response *slots*, one
per agent response. A slot may be preceded by a customer reply (and a reopen, when it
starts a new resolution cycle) and followed by ``resolved`` when it ends a cycle. Every
slot has the same six positions, so a whole batch of cases is laid out with ``repeat``
and masks instead of a Python loop per case. Events are then timed, nudged into business
hours, cut at ``now`` (and at the point where a stalled case stopped moving), and folded
into the case fields exactly as ``cases.state.apply_event`` would.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cases.demo import reference as ref
from cases.demo.draw import CaseDraw
from cases.demo.sampling import DAY, HOUR, first_and_last, group_starts, segment_cumsum
from cases.demo.surveys import Surveys, survey_answers
from cases.demo.world import World

CREATED, ASSIGNED, AGENT, CUSTOMER, STATUS, REOPENED, RESOLVED, CLOSED = range(8)
S_NONE, S_NEW, S_OPEN, S_PENDING, S_RESOLVED, S_CLOSED = range(6)
# Positions inside a slot, in time order; the head uses -2 (created) and -1 (assigned).
P_PEND, P_CUSTOMER, P_REOPEN, P_REASSIGN, P_AGENT, P_RESOLVE = range(6)
SLOT_TYPES = np.array([STATUS, CUSTOMER, REOPENED, ASSIGNED, AGENT, RESOLVED])

AUTO_CLOSE = 5 * DAY  # resolved cases close after five quiet days
NOT_STALLED, STALL_NEW, STALL_OPEN, STALL_PENDING = range(4)
# Open backlog: a small share of all cases stall, many more of the recent ones.
STALL_BASE, STALL_RECENT, STALL_DAYS = 0.010, 0.55, 40.0
REOPEN_BASE = 0.062
REASSIGN_SHARE = 0.08
PENDING_SHARE = 0.45
FAST_CHANNELS = np.array([c.value in ("chat", "phone", "ivr") for c in ref.CHANNELS])
CH_FIRST_RESPONSE = np.array([c.first_response_s for c in ref.CHANNELS])
CH_ONE_TOUCH = np.array([c.one_touch for c in ref.CHANNELS])
PRIORITY_SPEED = np.array([s for _, _, s in ref.PRIORITIES])
URGENT = 3


@dataclass
class Events:
    """Events in (case, time) order; rep columns are rep indexes, -1 for none."""

    case: np.ndarray
    type: np.ndarray
    at: np.ndarray
    actor: np.ndarray
    assignee: np.ndarray
    from_status: np.ndarray
    to_status: np.ndarray


@dataclass
class CaseFields:
    """The fold of each case's events; timestamps are Unix seconds, -1 for null."""

    status: np.ndarray
    assignee: np.ndarray
    resolved_by: np.ndarray
    first_responder: np.ndarray
    assigned_at: np.ndarray
    first_response_at: np.ndarray
    first_resolved_at: np.ndarray
    resolved_at: np.ndarray
    closed_at: np.ndarray
    last_customer_at: np.ndarray
    agent_count: np.ndarray
    reopen_count: np.ndarray
    updated_at: np.ndarray
    first_response_seconds: np.ndarray  # -1 for null, like the timestamps
    first_response_business_seconds: np.ndarray
    resolution_seconds: np.ndarray
    resolution_business_seconds: np.ndarray


@dataclass
class Chunk:
    draw: CaseDraw
    fields: CaseFields
    events: Events
    surveys: Surveys


@dataclass
class Plan:
    """Per case: how far it got, its reopens and its responses per resolution cycle."""

    stalled: np.ndarray
    kind: np.ndarray
    cut: np.ndarray  # events kept of a stalled case
    responses: np.ndarray  # (cases, 4): agent responses in cycle 0 (first resolution) .. 3
    new_rep: np.ndarray
    reassign: np.ndarray


@dataclass
class Layout:
    """Candidate events in (case, position) order, before timing and cuts."""

    case: np.ndarray
    pos: np.ndarray  # -2 created, -1 assigned, else the position in its slot
    type: np.ndarray
    cycle: np.ndarray  # resolution cycle of the event's slot (j)
    index: np.ndarray  # index of the slot within its cycle (i)
    cycle_len: np.ndarray  # responses in that cycle (k)
    rank: np.ndarray  # index of the slot within the case, -1 for the head
    counts: np.ndarray  # events per case
    starts: np.ndarray  # index of each case's first event


def simulate(world: World, draw: CaseDraw, rng: np.random.Generator) -> Chunk:
    """Histories, folded fields and surveys for the cases of ``draw``."""
    plan = _plan(world, draw, rng)
    lay = _layout(plan, rng)
    speed = world.rep_speed[draw.rep] * world.cat_props["duration"][draw.category]
    speed *= np.where(draw.pain, 1.7, 1.0) * PRIORITY_SPEED[draw.priority]
    at = _timeline(draw, rng, lay, speed)
    at = _business_hours(world, draw, rng, lay, at)
    events, cycle, cycle_len = _events(world, draw, rng, plan, lay, at)
    fields = _fold(world, draw, events)
    surveys = survey_answers(world, draw, rng, events, cycle, cycle_len)
    return Chunk(draw, fields, events, surveys)


def _plan(world: World, draw: CaseDraw, rng: np.random.Generator) -> Plan:
    n = len(draw)
    cat, rep, team = draw.category, draw.rep, draw.team
    props = world.cat_props
    age = (world.now - draw.opened) / DAY
    stalled = rng.random(n) < STALL_BASE + STALL_RECENT * np.exp(-age / STALL_DAYS)
    u = rng.random(n)
    kind = np.where(stalled, STALL_OPEN, NOT_STALLED)
    kind[stalled & (u < 0.15) & (age < 14)] = STALL_NEW
    kind[stalled & (u >= 0.6)] = STALL_PENDING
    depth = rng.choice(3, size=n, p=[0.25, 0.45, 0.30])  # assigned / answered / customer replied
    cut = np.full(n, 1 << 30)
    cut[kind == STALL_NEW] = 1
    cut[kind == STALL_OPEN] = 2 + depth[kind == STALL_OPEN]
    cut[kind == STALL_PENDING] = 4

    p_reopen = REOPEN_BASE * props["reopen"][cat] * world.rep_reopen[rep]
    p_reopen = np.minimum(p_reopen * np.where(draw.pain, 3.0, 1.0), 0.6)
    u = rng.random(n)
    reopens = (rng.random(n) < p_reopen) * (1 + (u < 0.2) + (u < 0.04))
    reopens[stalled] = 0

    p_one = CH_ONE_TOUCH[draw.channel] * props["one_touch"][cat] * np.where(draw.pain, 0.6, 1.0)
    k0 = np.where(
        rng.random(n) < np.clip(p_one, 0.03, 0.92), 1, 1 + np.minimum(rng.geometric(0.5, n), 6)
    )
    # A stalled case only needs the events up to where it stopped.
    two = (kind == STALL_PENDING) | ((kind == STALL_OPEN) & (depth == 2))
    k0 = np.where(two, 2, np.where(stalled, 1, k0))
    u = rng.random((n, 3))
    later = 1 + (u < 0.35) + (u < 0.1)
    responses = np.column_stack([k0, np.where(np.arange(1, 4) <= reopens[:, None], later, 0)])

    row = draw.day * len(world.teams) + team
    new_rep = world.team_members[team, world.rep_sampler.sample(row, rng.random(n))]
    reassign = (k0 >= 2) & ~stalled & (rng.random(n) < REASSIGN_SHARE) & (new_rep != rep)
    return Plan(stalled, kind, cut, responses, new_rep, reassign)


def _layout(plan: Plan, rng: np.random.Generator) -> Layout:
    """Expand cycles into slots and slots into their (present) events."""
    n = len(plan.kind)
    k = plan.responses
    n_cyc = (k > 0).sum(axis=1)
    cyc_case = np.repeat(np.arange(n), n_cyc)
    cyc_j = np.arange(len(cyc_case)) - np.repeat(group_starts(n_cyc), n_cyc)
    cyc_k = k[cyc_case, cyc_j]
    slot_cyc = np.repeat(np.arange(len(cyc_case)), cyc_k)
    n_slots = len(slot_cyc)
    slot_case, slot_j, slot_k = cyc_case[slot_cyc], cyc_j[slot_cyc], cyc_k[slot_cyc]
    slot_i = np.arange(n_slots) - group_starts(cyc_k)[slot_cyc]
    slot_rank = np.arange(n_slots) - group_starts(k.sum(axis=1))[slot_case]
    followup = (slot_j == 0) & (slot_i == 1)
    pend = (slot_i > 0) & (rng.random(n_slots) < PENDING_SHARE)
    pend = np.where(followup & (plan.kind[slot_case] == STALL_PENDING), True, pend)
    pend = np.where(followup & (plan.kind[slot_case] == STALL_OPEN), False, pend)
    grid = np.column_stack(
        [
            pend,
            (slot_i > 0) | (slot_j > 0),
            (slot_i == 0) & (slot_j > 0),
            plan.reassign[slot_case] & followup,
            np.ones(n_slots, dtype=bool),
            slot_i == slot_k - 1,
        ]
    ).ravel()
    head = np.column_stack([np.ones(n, dtype=bool), plan.kind != STALL_NEW]).ravel()
    c = np.concatenate([np.repeat(np.arange(n), 2)[head], np.repeat(slot_case, 6)[grid]])
    pos = np.concatenate([np.tile([-2, -1], n)[head], np.tile(np.arange(6), n_slots)[grid]])
    slot = np.concatenate([np.full(head.sum(), -1), np.repeat(np.arange(n_slots), 6)[grid]])
    order = np.argsort(c, kind="stable")
    c, pos, slot = c[order], pos[order], slot[order]
    s = np.maximum(slot, 0)
    counts = np.bincount(c, minlength=n)
    return Layout(
        case=c,
        pos=pos,
        type=np.where(pos == -2, CREATED, np.where(pos == -1, ASSIGNED, SLOT_TYPES[pos])),
        cycle=slot_j[s],
        index=slot_i[s],
        cycle_len=slot_k[s],
        rank=np.where(slot >= 0, slot_rank[s], -1),
        counts=counts,
        starts=group_starts(counts),
    )


def _events(
    world: World,
    draw: CaseDraw,
    rng: np.random.Generator,
    plan: Plan,
    lay: Layout,
    at: np.ndarray,
) -> tuple[Events, np.ndarray, np.ndarray]:
    """Keep what happened by ``now`` (and before a stalled case stopped), add auto-closes,
    attach actors and statuses. Also returns each event's cycle and cycle length."""
    n = len(draw)
    c, pos, etype = lay.case, lay.pos, lay.type
    keep = (np.arange(len(c)) - lay.starts[c] < plan.cut[c]) & (at <= world.now)
    complete = (np.bincount(c[keep], minlength=n) == lay.counts) & ~plan.stalled
    close_at = at[lay.starts + lay.counts - 1] + AUTO_CLOSE + rng.integers(0, HOUR, n)
    closing = np.flatnonzero(complete & (close_at <= world.now))

    rep, new_rep = draw.rep[c], plan.new_rep[c]
    after = plan.reassign[c] & ((lay.rank >= 2) | ((lay.rank == 1) & (pos >= P_AGENT)))
    actor = np.where(np.isin(etype, (AGENT, STATUS, RESOLVED)), np.where(after, new_rep, rep), -1)
    reassigned = pos == P_REASSIGN
    actor = np.where(reassigned, world.team_manager[draw.team[c]], actor)
    assignee = np.where(pos == -1, rep, np.where(reassigned, new_rep, -1))
    to = np.full(len(c), S_OPEN)
    to[etype == CREATED] = S_NEW
    to[etype == STATUS] = S_PENDING
    to[etype == RESOLVED] = S_RESOLVED
    # The customer's reply to a resolved case leaves it resolved; `reopened` follows.
    to[(etype == CUSTOMER) & (lay.index == 0)] = S_RESOLVED

    cols = [c, etype, at, actor, assignee, to, lay.cycle, lay.cycle_len]
    extra = [
        closing,
        np.full(len(closing), CLOSED),
        close_at[closing],
        *(np.full(len(closing), v) for v in (-1, -1, S_CLOSED, -1, -1)),
    ]
    cols = [np.concatenate([col[keep], add]) for col, add in zip(cols, extra, strict=True)]
    order = np.argsort(cols[0], kind="stable")
    c, etype, at, actor, assignee, to, cycle, cycle_len = (col[order] for col in cols)
    first_of_case = np.r_[True, c[1:] != c[:-1]]
    frm = np.where(first_of_case, S_NONE, np.roll(to, 1))
    return Events(c, etype, at, actor, assignee, frm, to), cycle, cycle_len


def _timeline(
    draw: CaseDraw, rng: np.random.Generator, lay: Layout, speed: np.ndarray
) -> np.ndarray:
    """Event times: the opening time plus a drawn gap before each event."""
    c, etype, pos = lay.case, lay.type, lay.pos
    ev_i, ev_j, ev_k = lay.index, lay.cycle, lay.cycle_len
    m = len(c)
    z = rng.standard_normal(m)
    ch, sp = draw.channel[c], speed[c]
    gap = np.zeros(m)

    def put(mask: np.ndarray, median: np.ndarray | float, sigma: float) -> None:
        med = median[mask] if isinstance(median, np.ndarray) else median
        gap[mask] = med * np.exp(sigma * z[mask])

    routed = pos == -1
    fast = FAST_CHANNELS[ch]
    put(routed & fast, 20.0, 0.5)
    put(routed & ~fast, 240.0, 1.0)
    put(pos == P_REASSIGN, 1800.0, 0.8)
    agent = etype == AGENT
    put(agent & (ev_j == 0) & (ev_i == 0), CH_FIRST_RESPONSE[ch] * sp, 0.9)
    put(agent & (ev_j > 0) & (ev_i == 0), 5400 * sp, 1.0)
    put(agent & (ev_i > 0), 9000 * sp, 1.0)
    put(etype == STATUS, 90.0, 0.6)
    put(etype == REOPENED, 600.0, 0.7)
    customer = etype == CUSTOMER
    prelude = customer & (ev_i == 0)
    put(prelude, 72_000.0, 0.8)
    gap[prelude] = np.clip(gap[prelude], HOUR, 4.3 * DAY)  # before the case auto-closes
    put(customer & ~prelude, 18_000.0, 1.2)
    gap[customer] = np.minimum(gap[customer], 12 * DAY)
    resolved = etype == RESOLVED
    put(resolved & (ev_k == 1), 180.0, 0.7)
    put(resolved & (ev_k > 1), 2400 * sp, 1.0)
    # Some multi-touch cases wait a day for the customer to confirm the fix.
    confirm = resolved & (ev_k > 1) & (rng.random(m) < 0.25)
    gap[confirm] += DAY * np.exp(0.5 * rng.standard_normal(int(confirm.sum())))
    gap = np.maximum(np.rint(gap), 1).astype(np.int64)
    gap[etype == CREATED] = 0
    return draw.opened[c] + segment_cumsum(gap, lay.starts, c)


def _business_hours(
    world: World, draw: CaseDraw, rng: np.random.Generator, lay: Layout, at: np.ndarray
) -> np.ndarray:
    """Move agent work outside the team's opening hours to its next opening.

    Each push delays everything after it in the case, so a few passes settle the cascade.
    Urgent cases and a few others are handled out of hours (on-call, late shifts).
    """
    c = lay.case
    agent = np.isin(lay.type, (AGENT, STATUS, RESOLVED)) | (lay.pos == P_REASSIGN)
    exempt = rng.random(len(c)) < np.where(draw.priority[c] == URGENT, 0.6, 0.08)
    push = agent & ~exempt
    jitter = rng.integers(0, 45 * 60, len(c))  # the morning queue is not cleared at once
    team = draw.team[c]
    for _ in range(4):
        inside, opening = world.cal.next_opening(team, at)
        delta = np.where(push & ~inside, opening + jitter - at, 0)
        if not delta.any():
            break
        at = at + segment_cumsum(delta, lay.starts, c)
    return at


def _fold(world: World, draw: CaseDraw, ev: Events) -> CaseFields:
    """The case fields ``apply_event`` (and the duration service) would keep."""
    n = len(draw)
    c, t = ev.case, ev.at
    counts = np.bincount(c, minlength=n)
    last = group_starts(counts) + counts - 1
    status = ev.to_status[last]

    def empty() -> np.ndarray:
        return np.full(n, -1, dtype=np.int64)

    assigned_at, assignee = empty(), empty()
    g, _, lst = first_and_last(c, ev.type == ASSIGNED)
    assigned_at[g], assignee[g] = t[lst], ev.assignee[lst]
    first_response, first_responder = empty(), empty()
    g, fst, _ = first_and_last(c, ev.type == AGENT)
    first_response[g], first_responder[g] = t[fst], ev.actor[fst]
    first_resolved, resolved_at, resolved_by = empty(), empty(), empty()
    g, fst, lst = first_and_last(c, ev.type == RESOLVED)
    first_resolved[g] = t[fst]
    done = np.isin(status, (S_RESOLVED, S_CLOSED))
    resolved_at[g] = np.where(done[g], t[lst], -1)
    resolved_by[g] = np.where(done[g], ev.actor[lst], -1)
    last_customer = empty()
    g, _, lst = first_and_last(c, ev.type == CUSTOMER)
    last_customer[g] = t[lst]
    response_s, response_b = _durations(world, draw, first_response)
    resolution_s, resolution_b = _durations(world, draw, resolved_at)
    return CaseFields(
        status=status,
        assignee=assignee,
        resolved_by=resolved_by,
        first_responder=first_responder,
        assigned_at=assigned_at,
        first_response_at=first_response,
        first_resolved_at=first_resolved,
        resolved_at=resolved_at,
        closed_at=np.where(status == S_CLOSED, t[last], -1),
        last_customer_at=last_customer,
        agent_count=np.bincount(c[ev.type == AGENT], minlength=n),
        reopen_count=np.bincount(c[ev.type == REOPENED], minlength=n),
        updated_at=t[last],
        first_response_seconds=response_s,
        first_response_business_seconds=response_b,
        resolution_seconds=resolution_s,
        resolution_business_seconds=resolution_b,
    )


def _durations(world: World, draw: CaseDraw, stamp: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Calendar and business seconds from opening to ``stamp`` (-1 where it is null)."""
    null = stamp < 0
    end = np.where(null, draw.opened, stamp)
    business = world.cal.business_seconds(draw.team, draw.opened, end)
    return np.where(null, -1, end - draw.opened), np.where(null, -1, business)
