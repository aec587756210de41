"""Open query counts for the admin index (the user's sites only)."""

from django import template

from visits.review.selectors import open_queries_per_site

register = template.Library()


@register.simple_tag
def open_queries_per_site_of(user):
    return open_queries_per_site(user)
