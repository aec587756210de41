from django.core.management.base import BaseCommand

from ecrf.domain.errors import DomainError
from ecrf.exceptions import ServiceError
from trials.randomization.management.commands._common import command_error, describe, study_and_user
from trials.randomization.services import allocation_list_generate


class Command(BaseCommand):
    help = (
        "Generate and store a study's allocation list from its protocol's scheme (arms and ratio, "
        "permuted blocks of randomly varying size, one stratum per site and factor level). The "
        "seed, the scheme and the user are recorded; the same seed gives the same list."
    )

    def add_arguments(self, parser):
        parser.add_argument("registry_id", help="e.g. NCT03304288")
        parser.add_argument("--seed", type=int, required=True)
        parser.add_argument("--size", type=int, required=True, help="slots per stratum")
        parser.add_argument("--user", required=True, help="username of who makes the list")
        parser.add_argument(
            "--replace",
            action="store_true",
            help="retire the study's active list (only while no patient is randomized)",
        )

    def handle(self, *args, **options):
        study, user = study_and_user(options["registry_id"], options["user"])
        try:
            allocation_list = allocation_list_generate(
                actor=user,
                study=study,
                seed=options["seed"],
                slots_per_stratum=options["size"],
                replace=options["replace"],
            )
        except (ServiceError, DomainError) as exc:
            raise command_error(exc) from exc
        self.stdout.write(describe(allocation_list))
