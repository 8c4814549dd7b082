from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "cases"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Labels the audit context of Celery tasks (signal receivers).
        import cases.audit  # noqa: F401
