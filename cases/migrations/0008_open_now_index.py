# The partial index on open cases, rebuilt as a covering index (``include``) so the backlog
# counts and the queue ranking are index-only scans. Built CONCURRENTLY before the old one
# is dropped, so the backlog never runs without an index and writers are never blocked.

from django.contrib.postgres.operations import AddIndexConcurrently, RemoveIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("cases", "0007_audit_trail")]

    operations = [
        AddIndexConcurrently(
            model_name="case",
            index=models.Index(
                condition=models.Q(("status__in", ["new", "open", "pending"])),
                fields=["team", "assignee", "opened_at"],
                include=[
                    "id",
                    "status",
                    "priority",
                    "last_customer_activity_at",
                    "agent_response_count",
                    "reopened_count",
                ],
                name="case_open_now",
            ),
        ),
        RemoveIndexConcurrently(model_name="case", name="case_open_backlog"),
    ]
