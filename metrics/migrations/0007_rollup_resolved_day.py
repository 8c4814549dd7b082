# The cases resolved per team and UTC day with their first-contact counts
# (metrics_rollup_resolved_day, read by the FCR KPI). 0008 installs the triggers that
# write it and fills it (its unique key, built at the end of this migration, must exist
# before rows are upserted).

import django.contrib.postgres.fields
import django.db.models.deletion
from django.db import migrations, models

import metrics.models


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0006_survey_loop"),
        ("metrics", "0006_rollup_hourly_first"),
    ]

    operations = [
        migrations.CreateModel(
            name="RollupResolvedDay",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("day", models.DateField()),
                (
                    "resolved_cases",
                    django.contrib.postgres.fields.ArrayField(
                        base_field=models.IntegerField(), default=metrics.models.hour_slots, size=25
                    ),
                ),
                (
                    "zero_touch",
                    django.contrib.postgres.fields.ArrayField(
                        base_field=models.IntegerField(), default=metrics.models.hour_slots, size=25
                    ),
                ),
                (
                    "touched",
                    django.contrib.postgres.fields.ArrayField(
                        base_field=models.IntegerField(), default=metrics.models.hour_slots, size=25
                    ),
                ),
                (
                    "one_touch",
                    django.contrib.postgres.fields.ArrayField(
                        base_field=models.IntegerField(), default=metrics.models.hour_slots, size=25
                    ),
                ),
                (
                    "reopened_cases",
                    django.contrib.postgres.fields.ArrayField(
                        base_field=models.IntegerField(), default=metrics.models.hour_slots, size=25
                    ),
                ),
                (
                    "team",
                    models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="cases.team",
                    ),
                ),
            ],
            options={
                "db_table": "metrics_rollup_resolved_day",
                "constraints": [
                    models.UniqueConstraint(
                        fields=("team", "day"), name="rollup_resolved_day_key", nulls_distinct=False
                    )
                ],
            },
        ),
    ]
