"""One command from a fresh clone to a running service with the five shipped trials."""

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand

from ecrf.services import grant_access
from randomization.models import AllocationList
from randomization.services import allocation_list_generate
from trials.models import Study

# Demo accounts for a laptop; never used in production (documented in the README).
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
    help = "Migrate, load the shipped protocols, create demo users, and serve on 127.0.0.1:8000."

    def add_arguments(self, parser):
        parser.add_argument("--no-serve", action="store_true", help="set up, then stop")
        parser.add_argument("--addrport", default="127.0.0.1:8000")

    def handle(self, *args, **options):
        call_command("migrate", interactive=False, verbosity=0)
        # The shared cache of throttles lives in the database unless CACHE_URL names Redis.
        call_command("createcachetable", verbosity=0)
        self.stdout.write("Database migrated.")
        call_command("load_protocol", all=True, stdout=self.stdout)
        self._demo_users()
        self._demo_allocation_lists()
        if options["no_serve"]:
            self.stdout.write(self.style.SUCCESS("Ready. Start the server with `make run`."))
            return
        self.stdout.write(
            f"Serving on http://{options['addrport']}/ — admin /admin/, API /api/, docs /api/docs/"
        )
        call_command("runserver", options["addrport"], use_reloader=False)

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
