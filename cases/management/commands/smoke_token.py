"""Print an API token for a smoke-test admin user (created if missing). Used by `dev.py smoke`."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from rest_framework.authtoken.models import Token


class Command(BaseCommand):
    help = "Create (if needed) the user 'smoke-admin' and print its API token."

    def handle(self, *args: object, **options: object) -> None:
        user, created = get_user_model().objects.get_or_create(
            username="smoke-admin", defaults={"is_staff": True, "is_superuser": True}
        )
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
        token, _ = Token.objects.get_or_create(user=user)
        self.stdout.write(token.key)
