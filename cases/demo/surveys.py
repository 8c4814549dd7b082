"""Post-resolution survey answers: who answers, when, and how satisfied they are."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from cases.demo import reference as ref
from cases.demo.sampling import DAY, HOUR
from cases.demo.world import World

if TYPE_CHECKING:
    from cases.demo.draw import CaseDraw
    from cases.demo.lifecycle import Events

RESOLVED = ref.EVENT_TYPES.index("resolved")
CSAT_BASE = 4.95
CH_SURVEY = np.array([c.survey_rate for c in ref.CHANNELS])


@dataclass
class Surveys:
    """One answer per row; ``case`` and ``rep`` are indexes into the chunk and the reps."""

    case: np.ndarray
    rep: np.ndarray
    resolution_number: np.ndarray
    csat: np.ndarray
    nps: np.ndarray  # -1: not answered
    effort: np.ndarray  # -1: not answered
    comment: np.ndarray  # index into the comment list, -1: none
    responded_at: np.ndarray


def survey_answers(
    world: World,
    draw: CaseDraw,
    rng: np.random.Generator,
    ev: Events,
    cycle: np.ndarray,
    cycle_len: np.ndarray,
) -> Surveys:
    """Answers to the post-resolution survey for about 30% of resolutions."""
    idx = np.flatnonzero(ev.type == RESOLVED)
    idx = idx[rng.random(len(idx)) < CH_SURVEY[draw.channel[ev.case[idx]]]]
    delay = np.maximum(60, 6 * HOUR * np.exp(1.2 * rng.standard_normal(len(idx))))
    responded = ev.at[idx] + delay.astype(np.int64)
    idx, responded = idx[responded <= world.now], responded[responded <= world.now]
    m = len(idx)
    case, rep, j = ev.case[idx], ev.actor[idx], cycle[idx]
    days_open = (ev.at[idx] - draw.opened[case]) / DAY
    latent = (
        CSAT_BASE
        + world.rep_quality[rep]
        + world.cat_props["csat"][draw.category[case]]
        - 0.5 * j
        - 1.3 * draw.pain[case]
        - 0.12 * np.minimum(cycle_len[idx] - 1, 4)
        - 0.08 * np.minimum(days_open, 10)
        + 0.85 * rng.standard_normal(m)
    )
    csat = np.clip(np.rint(latent), 1, 5).astype(np.int64)
    nps = np.clip(np.rint(2.1 * csat - 0.6 + 1.3 * rng.standard_normal(m)), 0, 10).astype(np.int64)
    nps[rng.random(m) >= 0.6] = -1
    # Effort: 1 = very easy ... 7 = very hard; the reverse of satisfaction, with noise.
    effort = np.clip(np.rint(7.2 - 1.15 * csat + 0.9 * rng.standard_normal(m)), 1, 7)
    effort = effort.astype(np.int64)
    effort[rng.random(m) >= 0.4] = -1
    comment = _comments(rng, csat)
    return Surveys(case, rep, j + 1, csat, nps, effort, comment, responded)


COMMENTS = ref.COMMENTS_LOW + ref.COMMENTS_MID + ref.COMMENTS_HIGH
_BUCKET_OFF = np.array(
    [0, 0, 0, len(ref.COMMENTS_LOW), *[len(ref.COMMENTS_LOW) + len(ref.COMMENTS_MID)] * 2]
)
_BUCKET_N = np.array(
    [1, *[len(ref.COMMENTS_LOW)] * 2, len(ref.COMMENTS_MID), *[len(ref.COMMENTS_HIGH)] * 2]
)


def _comments(rng: np.random.Generator, csat: np.ndarray) -> np.ndarray:
    """A comment on some answers, more often when the customer was unhappy."""
    m = len(csat)
    has = rng.random(m) < np.where(csat <= 2, 0.35, 0.14)
    pick = _BUCKET_OFF[csat] + (rng.random(m) * _BUCKET_N[csat]).astype(np.int64)
    return np.where(has, pick, -1)
