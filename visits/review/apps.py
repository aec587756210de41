from django.apps import AppConfig


class ReviewConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "visits.review"
    label = "review"
    verbose_name = "Data management: queries, SDV, freeze and lock, signatures"

    def ready(self) -> None:
        # Freezes and locks refuse every audited write to the data they cover, from any layer
        # below (services, admin, bulk import, commands): the recorders never import this app.
        from ecrf.write_guards import register_write_guard
        from visits.review.locks import guarded_models, locked_target, refuse_locked_write

        # Whether a write is refused depends only on its study, patient and visit: a bulk write
        # asks once per patient and visit.
        register_write_guard(
            "freeze and lock",
            models=guarded_models(),
            check=refuse_locked_write,
            target_of=locked_target,
        )
        from django.contrib import admin

        from ecrf.after_write import register_after_write
        from visits.review.edit_checks import CHECKED_MODELS, run_edit_checks, subject_of

        # The protocol's edit checks run after every audited write of what they read.
        register_after_write(
            "edit checks", models=CHECKED_MODELS, subject_of=subject_of, run=run_edit_checks
        )

        from visits.review.sdv import VERIFIED_MODELS, clear_changed
        from visits.review.sdv import subject_of as verified_record_of

        # Any change of a source-verified record clears its mark, from every write path.
        register_after_write(
            "source data verification",
            models=VERIFIED_MODELS,
            subject_of=verified_record_of,
            run=clear_changed,
        )

        from visits.admin_casebook import register_casebook_extension
        from visits.review.casebook import annotate_casebook, annotate_sdv, annotate_signatures

        register_casebook_extension("queries and locks", annotate_casebook)
        register_casebook_extension("source data verification", annotate_sdv)
        register_casebook_extension("signatures", annotate_signatures)

        # The admin index shows the open queries per site (template in this app) above the
        # coordinator's worklists: the template extends the visits admin's index
        # (`admin/ecrf_index.html`), which `django.contrib.admin`'s autodiscovery, run before this
        # app's ready(), has installed.
        admin.site.index_template = "admin/review/index.html"
