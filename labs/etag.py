"""ETag headers carrying a record's version, so clients can echo it back in If-Match.

`ecrf.api.expected_version` already reads If-Match (`"3"`, `W/"3"` or `3`); this mixin adds the
matching ETag to every single-record answer (detail, create, update, void).
"""

from __future__ import annotations

DETAIL_ACTIONS = frozenset({"retrieve", "create", "update", "partial_update", "destroy"})


class VersionETagMixin:
    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        data = getattr(response, "data", None)
        if (
            getattr(self, "action", None) in DETAIL_ACTIONS
            and 200 <= response.status_code < 300
            and isinstance(data, dict)
            and isinstance(data.get("version"), int)
        ):
            response["ETag"] = f'"{data["version"]}"'
        return response
