from django.core.management.base import BaseCommand
from django.utils import timezone

from ecrf.models import IdempotencyKey


class Command(BaseCommand):
    help = (
        "Delete the stored answers of Idempotency-Key requests whose retention "
        "(IDEMPOTENCY_KEY_TTL_HOURS) has passed; run it daily (e.g. from cron)."
    )

    def handle(self, *args, **options):
        # Not an audited table: these rows are a cache of answers, not clinical data.
        deleted, _ = IdempotencyKey.objects.filter(expires_at__lte=timezone.now()).delete()
        self.stdout.write(f"Deleted {deleted} expired idempotency key(s).")
