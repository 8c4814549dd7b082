"""The demo data set behind ``manage.py seed_demo``.

``world`` builds the organisation and distributions, ``draw`` and ``lifecycle`` simulate
cases, ``rows``/``pgcopy`` encode them for PostgreSQL's binary COPY, ``loader`` writes them.
Only ``loader`` touches Django; the rest is numpy.
"""

from cases.demo.loader import (
    ADMIN_PASSWORD,
    ADMIN_USERNAME,
    STAFF_PASSWORD,
    SeedResult,
    demo_data_exists,
    seed_demo,
)

__all__ = [
    "ADMIN_PASSWORD",
    "ADMIN_USERNAME",
    "STAFF_PASSWORD",
    "SeedResult",
    "demo_data_exists",
    "seed_demo",
]
