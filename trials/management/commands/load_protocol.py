from django.core.management.base import BaseCommand, CommandError

from trials.services import ProtocolFileError, load_protocol, shipped_protocol_paths


class Command(BaseCommand):
    help = (
        "Load a protocol file (a path, or the registry id of a shipped file) idempotently. "
        "A changed file becomes a new protocol version; nothing loaded before is rewritten."
    )

    def add_arguments(self, parser):
        parser.add_argument("protocols", nargs="*", help="path or registry id (e.g. NCT05471050)")
        parser.add_argument("--all", action="store_true", help="load every shipped protocol")

    def handle(self, *args, **options):
        targets = list(options["protocols"])
        if options["all"]:
            targets += [str(p) for p in shipped_protocol_paths()]
        if not targets:
            raise CommandError("Name a protocol file or registry id, or pass --all.")
        for target in targets:
            try:
                report = load_protocol(target)
            except ProtocolFileError as exc:
                raise CommandError(str(exc)) from exc
            self.stdout.write(report.describe())
