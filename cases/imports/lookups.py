"""Names in the files → rows in the database, loaded in a few queries (and created on request).

Reps are named by username, accounts by external id, categories by slug, teams by name.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db import connection

from cases.business_hours import BusinessCalendar
from cases.models import Account, Category, Representative, Team
from cases.services.durations import team_calendar

# Where a rep created by the import goes when no cases-file row names their team.
IMPORTED_TEAM = "Imported"


@dataclass
class References:
    """Every name the files use, collected while their cells are read."""

    teams: set[str] = field(default_factory=set)
    accounts: set[str] = field(default_factory=set)
    categories: set[str] = field(default_factory=set)
    # username → the team of the first cases-file row that names the rep with a team.
    reps: dict[str, str | None] = field(default_factory=dict)

    def rep(self, username: str, team: str | None = None) -> None:
        if self.reps.get(username) is None:
            self.reps[username] = team or None


@dataclass
class Lookups:
    teams: dict[str, Team]
    reps: dict[str, Representative]
    accounts: dict[str, int]
    categories: dict[str, Category]


class Calendars:
    """Business calendars by team id, as ``team_calendar`` builds them; one per team, not per
    row (each costs a query for the team's closures)."""

    def __init__(self, lookups: Lookups) -> None:
        self._teams = {team.pk: team for team in lookups.teams.values()}
        self._teams.update((rep.team_id, rep.team) for rep in lookups.reps.values())
        self._calendars: dict[int, BusinessCalendar | None] = {}

    def __call__(self, team_id: int | None) -> BusinessCalendar | None:
        if team_id is None:
            return None
        if team_id not in self._calendars:
            team = self._teams.get(team_id) or Team.objects.filter(pk=team_id).first()
            self._calendars[team_id] = team_calendar(team)
        return self._calendars[team_id]


def lookups_load(refs: References) -> Lookups:
    """Load what the files name: one query per kind, however many rows refer to them."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT external_id, id FROM {Account._meta.db_table} WHERE external_id = ANY(%s)",
            [sorted(refs.accounts)],
        )
        accounts = dict(cursor.fetchall())
    reps = Representative.objects.select_related("user", "team").filter(
        user__username__in=refs.reps
    )
    return Lookups(
        teams={t.name: t for t in Team.objects.filter(name__in=[*refs.teams, IMPORTED_TEAM])},
        reps={rep.user.username: rep for rep in reps},
        accounts=accounts,
        categories={c.slug: c for c in Category.objects.filter(slug__in=refs.categories)},
    )


def lookups_create_missing(lookups: Lookups, refs: References) -> dict[str, list[str]]:
    """Create every named team, category, account and rep that does not exist yet.

    - a team: that name, time zone UTC;
    - a category: name and slug = the slug, active, no resolution target;
    - an account: name = external id, segment smb, active, annual value 0;
    - a rep: a user with that username and no usable password (they cannot log in until
      an admin sets one), role rep, active, display name = username, in the team of the
      first cases-file row naming them with a team, else in the team "Imported".
    An existing user without a rep profile gets one. Returns the created names by kind.
    """
    missing_reps = sorted(set(refs.reps) - set(lookups.reps))
    team_names = set(refs.teams)
    team_names.update(refs.reps[name] or IMPORTED_TEAM for name in missing_reps)
    missing_teams = sorted(team_names - set(lookups.teams))
    for team in Team.objects.bulk_create([Team(name=n, timezone="UTC") for n in missing_teams]):
        lookups.teams[team.name] = team

    missing_categories = sorted(refs.categories - set(lookups.categories))
    for category in Category.objects.bulk_create(
        [Category(name=slug, slug=slug, active=True) for slug in missing_categories]
    ):
        lookups.categories[category.slug] = category

    missing_accounts = sorted(refs.accounts - set(lookups.accounts))
    for account in Account.objects.bulk_create(
        [Account(external_id=ext, name=ext) for ext in missing_accounts]
    ):
        lookups.accounts[account.external_id] = account.pk

    _create_reps(lookups, refs, missing_reps)
    return {
        "teams": missing_teams,
        "representatives": missing_reps,
        "accounts": missing_accounts,
        "categories": missing_categories,
    }


def _create_reps(lookups: Lookups, refs: References, usernames: list[str]) -> None:
    user_model = get_user_model()
    users = {u.get_username(): u for u in user_model.objects.filter(username__in=usernames)}
    new_users = []
    for username in usernames:
        if username not in users:
            user = user_model(username=username)
            user.set_unusable_password()
            new_users.append(user)
    for user in user_model.objects.bulk_create(new_users):
        users[user.get_username()] = user
    reps = [
        Representative(
            user=users[name],
            team=lookups.teams[refs.reps[name] or IMPORTED_TEAM],
            display_name=name,
            role=Representative.Role.REP,
        )
        for name in usernames
    ]
    for rep in Representative.objects.bulk_create(reps):
        lookups.reps[rep.user.get_username()] = rep
