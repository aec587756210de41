"""Open query counts and SDV progress for the admin index (the user's sites only)."""

from django import template

from visits.review.sdv import sdv_progress
from visits.review.selectors import open_queries_per_site

register = template.Library()


@register.simple_tag
def open_queries_per_site_of(user):
    return open_queries_per_site(user)


@register.simple_tag
def sdv_progress_per_site_of(user):
    """Source data verification per site of the user's studies (required, verified, cleared)."""
    return sdv_progress(user)["sites"]
