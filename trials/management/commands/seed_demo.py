"""Demo accounts and allocation lists for a laptop, so the shipped trials can be tried at once.

Never for production: the passwords are documented in the README. Called by `quickstart`.
"""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from trials.access_grants import grant_access
from trials.models import Study
from trials.randomization.models import AllocationList
from trials.randomization.services import allocation_list_generate

DEMO_PASSWORD_SUFFIX = "-demo-2026"
DEMO_LIST_SEED = 2026
DEMO_ROLES = {
    # username: (role, site codes per study — empty means all sites)
    "coordinator": ("coordinator", "first"),
    "investigator": ("investigator", "all"),
    "monitor": ("monitor", "all"),
    "datamanager": ("data_manager", "all"),
    "statistician": ("statistician", "all"),
}


class Command(BaseCommand):
    help = "Create the documented demo users and a seeded allocation list per randomized study."

    def handle(self, *args, **options):
        self._demo_users()
        self._demo_allocation_lists()

    def _demo_allocation_lists(self) -> None:
        """A laptop demo can randomize at once: each randomized study gets a seeded list."""
        manager = get_user_model().objects.get(username="datamanager")
        made = []
        for study in Study.objects.filter(design=Study.Design.RANDOMIZED):
            if AllocationList.objects.filter(study=study, active=True).exists():
                continue
            allocation_list_generate(
                actor=manager, study=study, seed=DEMO_LIST_SEED, slots_per_stratum=60
            )
            made.append(study.registry_id)
        if made:
            self.stdout.write(
                f"Demo allocation lists (seed {DEMO_LIST_SEED}, 60 slots per stratum): "
                + ", ".join(made)
            )

    def _demo_users(self) -> None:
        user_model = get_user_model()
        admin_password = "admin" + DEMO_PASSWORD_SUFFIX
        admin, _ = user_model.objects.get_or_create(
            username="admin", defaults={"is_staff": True, "is_superuser": True}
        )
        admin.set_password(admin_password)
        admin.save()
        lines = [f"  admin / {admin_password}  (superuser: every study and site)"]
        for username, (role, scope) in DEMO_ROLES.items():
            password = username + DEMO_PASSWORD_SUFFIX
            for index, study in enumerate(Study.objects.prefetch_related("sites")):
                sites = [] if scope == "all" else [study.sites.order_by("code")[0].code]
                grant, _ = grant_access(
                    username=username,
                    role=role,
                    registry_id=study.registry_id,
                    site_codes=sites,
                )
                if index == 0:  # hash once per user
                    # Demo accounts on a laptop: documented, memorable passwords that the
                    # validators (similar to the user name) would refuse for a real account.
                    grant.user.set_password(password)
                    grant.user.save(update_fields=["password"])
            where = "all sites" if scope == "all" else "the first site (by code) of each study"
            lines.append(f"  {username} / {password}  ({role}, {where})")
        self.stdout.write("Demo users (laptop only):\n" + "\n".join(lines))
