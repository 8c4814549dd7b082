"""Static reference data for the demo data set: teams, categories, channels, names, texts.

Everything here is plain data so the generator stays readable; tuning the demo means
editing these tables, not the code.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TeamSpec:
    key: str  # used in user names: mgr.<key>, rep.<key>.<n>
    name: str
    timezone: str
    size: int  # representatives, not counting the manager
    country: str  # public holidays (the ``holidays`` package)
    subdivision: str
    hours: tuple[tuple[str, str, str], ...]  # (weekday, opens, closes), local time


def _weekdays(opens: str, closes: str) -> tuple[tuple[str, str, str], ...]:
    return tuple((day, opens, closes) for day in ("mon", "tue", "wed", "thu", "fri"))


TEAMS: tuple[TeamSpec, ...] = (
    TeamSpec(
        "alpha", "Alpha (Berlin)", "Europe/Berlin", 10, "DE", "BE", _weekdays("08:00", "18:00")
    ),
    TeamSpec(
        "bravo", "Bravo (London)", "Europe/London", 9, "GB", "ENG", _weekdays("08:00", "18:00")
    ),
    TeamSpec(
        "charlie", "Charlie (Warsaw)", "Europe/Warsaw", 8, "PL", "", _weekdays("08:00", "17:00")
    ),
    TeamSpec(
        "delta", "Delta (New York)", "America/New_York", 11, "US", "NY", _weekdays("08:00", "19:00")
    ),
    TeamSpec(
        "echo", "Echo (Chicago)", "America/Chicago", 9, "US", "IL", _weekdays("08:00", "18:00")
    ),
    TeamSpec(
        "foxtrot",
        "Foxtrot (São Paulo)",
        "America/Sao_Paulo",
        8,
        "BR",
        "SP",
        (*_weekdays("08:00", "18:00"), ("sat", "09:00", "13:00")),
    ),
    TeamSpec(
        "golf",
        "Golf (Los Angeles)",
        "America/Los_Angeles",
        9,
        "US",
        "CA",
        _weekdays("07:00", "17:00"),
    ),
    TeamSpec(
        "hotel",
        "Hotel (Bangalore)",
        "Asia/Kolkata",
        10,
        "IN",
        "KA",
        (*_weekdays("09:00", "18:00"), ("sat", "09:00", "14:00")),
    ),
    TeamSpec(
        "kilo", "Kilo (Singapore)", "Asia/Singapore", 8, "SG", "", _weekdays("09:00", "18:00")
    ),
    TeamSpec(
        "lima", "Lima (Sydney)", "Australia/Sydney", 8, "AU", "NSW", _weekdays("08:30", "17:30")
    ),
)

# Share of a day's cases by local weekday (Monday first): Monday catches the weekend's mail.
WEEKDAY_FACTOR = (1.18, 1.10, 1.05, 1.00, 0.90, 0.32, 0.26)
# Calendar-month factor (January first): post-holiday January rush, quiet summer.
MONTH_FACTOR = (1.10, 1.02, 1.00, 0.97, 0.95, 0.92, 0.85, 0.83, 1.00, 1.04, 1.06, 0.92)
# Local hour-of-day profiles: two bumps around 10:00 and 14:30 on weekdays, flat weekends.
WEEKDAY_HOURS = (
    0.15, 0.10, 0.08, 0.08, 0.10, 0.20, 0.45, 0.90, 1.60, 2.20, 2.50, 2.40,
    2.00, 2.20, 2.40, 2.30, 2.00, 1.50, 1.00, 0.70, 0.55, 0.45, 0.35, 0.25,
)  # fmt: skip
WEEKEND_HOURS = (
    0.20, 0.15, 0.10, 0.10, 0.10, 0.15, 0.25, 0.40, 0.60, 0.80, 0.95, 1.00,
    1.00, 1.00, 0.95, 0.90, 0.85, 0.80, 0.75, 0.70, 0.60, 0.50, 0.40, 0.30,
)  # fmt: skip

# Case statuses as the generator codes them; index 0 is the empty "from" of `created`.
STATUSES = ("", "new", "open", "pending", "resolved", "closed")
EVENT_TYPES = (
    "created",
    "assigned",
    "agent_response",
    "customer_response",
    "status_changed",
    "reopened",
    "resolved",
    "closed",
)


@dataclass(frozen=True)
class ChannelSpec:
    value: str
    weight: float
    first_response_s: float  # median time to the first agent response
    one_touch: float  # chance the first answer also resolves the case
    survey_rate: float


CHANNELS: tuple[ChannelSpec, ...] = (
    ChannelSpec("email", 38, 2.5 * 3600, 0.42, 0.34),
    ChannelSpec("chat", 22, 150, 0.62, 0.30),
    ChannelSpec("phone", 15, 60, 0.68, 0.22),
    ChannelSpec("web_form", 13, 4 * 3600, 0.40, 0.32),
    ChannelSpec("in_app", 6, 2 * 3600, 0.50, 0.30),
    ChannelSpec("social", 4, 1.5 * 3600, 0.45, 0.20),
    ChannelSpec("ivr", 2, 90, 0.60, 0.18),
)

# (value, weight, agent speed factor: urgent cases are answered first).
PRIORITIES: tuple[tuple[str, float, float], ...] = (
    ("low", 18, 1.6),
    ("normal", 58, 1.0),
    ("high", 19, 0.55),
    ("urgent", 5, 0.25),
)


@dataclass(frozen=True)
class CategorySpec:
    slug: str
    name: str
    parent: str | None
    target_hours: int | None
    weight: float
    description: str = ""
    peak_day: int | None = None  # day of year of a yearly peak
    peak_width: float = 15.0  # standard deviation of the peak, in days
    peak_factor: float = 1.0  # volume multiplier at the top of the peak
    retired_after: float | None = None  # share of the 2-year window after which it is inactive
    one_touch: float = 1.0  # multiplier on the channel's one-touch chance
    duration: float = 1.0  # multiplier on agent response and resolution times
    reopen: float = 1.0  # multiplier on the reopen chance
    csat: float = 0.0  # shift of the latent CSAT score
    urgent_bias: float = 1.0  # multiplier on high/urgent priority weights
    subjects: tuple[str, ...] = ()


CATEGORIES: tuple[CategorySpec, ...] = (
    CategorySpec("billing", "Billing", None, 24, 1.0, "Money matters: invoices, refunds, plans.",
                 subjects=("Question about my bill", "Billing question")),
    CategorySpec("billing-invoices", "Invoices & tax documents", "billing", 24, 7.0,
                 "Invoice copies, VAT numbers, tax documents; peaks every March.",
                 peak_day=75, peak_width=14, peak_factor=4.0, one_touch=1.25,
                 subjects=("Invoice missing VAT number", "Need a corrected invoice",
                           "Tax certificate for last year", "Invoice address is wrong")),
    CategorySpec("billing-refunds", "Refunds", "billing", 48, 5.0, duration=1.3, csat=-0.35,
                 reopen=1.3, subjects=("Refund not received", "Charged twice this month",
                                       "Requesting a refund")),
    CategorySpec("billing-payment-failed", "Payment failures", "billing", 8, 4.0, one_touch=1.1,
                 urgent_bias=1.8, subjects=("Card declined at renewal", "Payment failed",
                                            "Direct debit bounced")),
    CategorySpec("billing-plan-change", "Plan changes", "billing", 24, 4.0, one_touch=1.3,
                 peak_day=10, peak_width=12, peak_factor=2.5,
                 subjects=("Upgrade to the annual plan", "Downgrade our subscription",
                           "Add seats to our plan")),
    CategorySpec("technical", "Technical", None, 48, 1.0, "Product defects and how it runs.",
                 subjects=("Something is not working", "Technical problem")),
    CategorySpec("technical-bug", "Bug reports", "technical", 72, 8.0, one_touch=0.45,
                 duration=1.8, reopen=1.8, csat=-0.2,
                 subjects=("Export button does nothing", "Error 500 when saving",
                           "Report shows wrong totals", "Page freezes on upload")),
    CategorySpec("technical-performance", "Performance", "technical", 48, 4.0, one_touch=0.5,
                 duration=1.5, reopen=1.4, csat=-0.25,
                 subjects=("Dashboard is very slow", "Timeouts since this morning")),
    CategorySpec("technical-integrations", "API & integrations", "technical", 72, 5.0,
                 one_touch=0.5, duration=1.6, reopen=1.3,
                 subjects=("Webhook deliveries failing", "API returns 401",
                           "CRM sync stopped", "Rate limit questions")),
    CategorySpec("technical-outage", "Outage reports", "technical", 4, 2.0, one_touch=0.9,
                 duration=0.6, urgent_bias=6.0, csat=-0.3,
                 subjects=("Service down for our whole team", "Cannot reach the app")),
    CategorySpec("technical-mobile", "Mobile app", "technical", 48, 4.0, one_touch=0.8,
                 subjects=("App crashes on start", "Notifications not arriving",
                           "Cannot log in on iPhone")),
    CategorySpec("access", "Account & access", None, 24, 1.0, "Logins, users and permissions.",
                 subjects=("Access question",)),
    CategorySpec("access-password", "Password reset", "access", 4, 8.0, one_touch=1.5,
                 duration=0.5, csat=0.2,
                 subjects=("Password reset link expired", "Locked out of my account",
                           "Forgot my password")),
    CategorySpec("access-sso", "SSO & 2FA", "access", 24, 3.5, one_touch=0.8, duration=1.2,
                 subjects=("SAML login fails", "Lost my 2FA device", "Set up Okta SSO")),
    CategorySpec("access-users", "User management", "access", 24, 4.5, one_touch=1.3,
                 subjects=("Add a new admin", "Remove a former employee",
                           "Transfer account ownership")),
    CategorySpec("shipping", "Orders & shipping", None, 48, 1.0, "Physical orders.",
                 subjects=("Order question",)),
    CategorySpec("shipping-holiday", "Holiday shipping", "shipping", 24, 1.5,
                 "Gift orders and delivery deadlines; peaks every December.",
                 peak_day=350, peak_width=10, peak_factor=12.0, one_touch=1.1, csat=-0.1,
                 subjects=("Will my order arrive before the holidays?",
                           "Gift order delayed", "Change delivery address for a gift")),
    CategorySpec("shipping-returns", "Returns", "shipping", 72, 3.0, duration=1.2,
                 peak_day=15, peak_width=12, peak_factor=2.5,
                 subjects=("Return label request", "Item arrived damaged",
                           "Exchange for a different size")),
    CategorySpec("shipping-tracking", "Order tracking", "shipping", 24, 3.0, one_touch=1.4,
                 subjects=("Where is my order?", "Tracking number not working")),
    CategorySpec("product", "Product questions", None, None, 1.0, "Questions, not problems.",
                 subjects=("Quick question",)),
    CategorySpec("product-howto", "How-to questions", "product", None, 7.0, one_touch=1.4,
                 duration=0.8, csat=0.2,
                 subjects=("How do I export to CSV?", "How to set up recurring reports",
                           "Can I change the date format?", "How to invite my team")),
    CategorySpec("product-feature", "Feature requests", "product", None, 3.0, one_touch=1.3,
                 csat=-0.1, subjects=("Feature request: dark mode",
                                      "Please add bulk editing", "Suggestion for the calendar")),
    CategorySpec("privacy", "Privacy & data requests", None, 720, 1.5,
                 "Data export and erasure requests (GDPR/CCPA).",
                 peak_day=145, peak_width=20, peak_factor=2.0, duration=1.4,
                 subjects=("Request a copy of my data", "Delete my personal data",
                           "DPA for our legal team")),
    CategorySpec("legacy-migration", "Legacy plan migration", None, 48, 3.0,
                 "Moving customers off the old plans; retired after the campaign.",
                 retired_after=0.55, duration=1.3, reopen=1.4, csat=-0.2,
                 subjects=("Migration from the classic plan", "Old plan features missing")),
    CategorySpec("fax-support", "Fax gateway", "technical", 48, 0.6,
                 "The retired fax gateway.", retired_after=0.35, one_touch=0.8,
                 subjects=("Fax not delivered", "Fax number change")),
)  # fmt: skip

FIRST_NAMES: tuple[str, ...] = (
    "Anna", "Ben", "Carla", "David", "Elena", "Felix", "Grace", "Hugo", "Ines", "Jonas",
    "Kira", "Leo", "Maya", "Noah", "Olivia", "Paul", "Quinn", "Rosa", "Samuel", "Tara",
    "Umar", "Vera", "Will", "Xenia", "Yusuf", "Zoe", "Aiko", "Bruno", "Chloe", "Diego",
    "Emma", "Farah", "Gabriel", "Hannah", "Ivan", "Julia", "Kenji", "Lena", "Marco", "Nina",
    "Omar", "Priya", "Rafael", "Sofia", "Tomas", "Uma", "Victor", "Wen", "Yara", "Lukas",
    "Amara", "Mateo", "Freya", "Arjun", "Mei", "Oscar", "Leila", "Henrik", "Ana", "Kwame",
)  # fmt: skip
LAST_NAMES: tuple[str, ...] = (
    "Smith", "Müller", "Garcia", "Rossi", "Kowalski", "Nguyen", "Tanaka", "Silva", "Novak",
    "Jensen", "Dubois", "Okafor", "Patel", "Kim", "Larsen", "Costa", "Fischer", "Moreau",
    "Ivanova", "Haddad", "Murphy", "Schmidt", "Lopez", "Bianchi", "Nowak", "Chen", "Sato",
    "Santos", "Horvat", "Nielsen", "Martin", "Adeyemi", "Shah", "Park", "Berg", "Ferreira",
    "Wagner", "Laurent", "Petrov", "Khoury", "O'Brien", "Weber", "Fernandez", "Romano",
    "Wojcik", "Wang", "Suzuki", "Oliveira", "Kovac", "Hansen", "Walker", "Mensah", "Gupta",
)  # fmt: skip
ASCII_FOLD = str.maketrans({"ü": "ue", "é": "e", "ã": "a", "'": ""})


def ascii_fold(text: str) -> str:
    """Lower-case ASCII spelling for e-mail addresses and domains (Müller → mueller)."""
    return text.lower().translate(ASCII_FOLD)


COMPANY_WORDS: tuple[str, ...] = (
    "Northwind", "Bluebird", "Silverline", "Redwood", "Brightpath", "Ironbridge", "Greenleaf",
    "Suncrest", "Oakmont", "Clearwater", "Stonegate", "Riverside", "Highland", "Lumen",
    "Nimbus", "Quantum", "Vertex", "Harbor", "Summit", "Pioneer", "Evergreen", "Falcon",
    "Granite", "Horizon", "Juniper", "Keystone", "Lakeside", "Maple", "Nova", "Orbit",
    "Polar", "Atlas", "Beacon", "Cobalt", "Delta", "Ember", "Fjord", "Helix", "Kestrel",
    "Meridian", "Onyx", "Prism", "Sequoia", "Tidal", "Vanguard", "Willow", "Zephyr", "Aurora",
)  # fmt: skip
COMPANY_NOUNS: tuple[str, ...] = (
    "Logistics", "Foods", "Analytics", "Dental", "Labs", "Media", "Outfitters", "Bakery",
    "Consulting", "Robotics", "Health", "Travel", "Energy", "Studios", "Pharma", "Retail",
    "Capital", "Motors", "Architects", "Software", "Brewing", "Insurance", "Fitness",
    "Textiles", "Marine", "Education", "Games", "Legal", "Farms", "Hotels",
)  # fmt: skip
COMPANY_FORMS: tuple[str, ...] = ("", "", "", " Ltd", " GmbH", " Inc.", " LLC", " S.A.", " B.V.")
# Reserved example domains: demo addresses look real but can never receive mail.
CONSUMER_DOMAINS: tuple[str, ...] = ("example.org", "example.net", "mail.example.com")

COMMENTS_LOW: tuple[str, ...] = (
    "Took far too long to get an answer.",
    "I had to explain the problem three times.",
    "Issue is still not fixed.",
    "Nobody got back to me until I chased.",
    "The answer did not address my question.",
    "Very frustrating experience.",
)
COMMENTS_MID: tuple[str, ...] = (
    "Solved in the end, but slowly.",
    "OK, though I expected a faster reply.",
    "Fine.",
    "The fix works, the explanation was confusing.",
)
COMMENTS_HIGH: tuple[str, ...] = (
    "Quick and friendly, thank you!",
    "Great help, problem solved on the first reply.",
    "Very knowledgeable agent.",
    "Thanks for the fast turnaround.",
    "Excellent service as always.",
    "Clear instructions, worked immediately.",
)
