"""Response levels get an explicit ``rank`` (1 = best) in every stored protocol version.

Levels used to be ranked by the key order of ``levels``, which PostgreSQL jsonb does not keep
(it stores keys shortest first, so ``CR`` came after ``R``). The file order is lost in a jsonb
column, so the rank is inferred from what the level asks for: a level whose lower threshold
(``platelets`` or ``hb``) is higher is better; a level with no such threshold (a fold or rise
only) ranks last. That is how every shipped protocol orders its levels. Each changed version gets
a history row with the reason. The engine now requires the rank, so this runs once, here.
"""

import hashlib
import json
from decimal import Decimal

from django.db import migrations
from django.utils import timezone

REASON = "Response levels ranked explicitly (rank 1 = best): jsonb does not keep key order"


def _strength(level):
    for key in ("platelets", "hb"):
        threshold = level.get(key)
        if isinstance(threshold, dict) and threshold.get("value") is not None:
            return Decimal(str(threshold["value"]))
    return Decimal(-1)


def _ranked(levels):
    live = {code: level for code, level in levels.items() if isinstance(level, dict)}
    order = sorted(live, key=lambda code: (-_strength(live[code]), code))
    return {code: rank for rank, code in enumerate(order, start=1)}


def _rank_protocol_levels(criteria):
    if not isinstance(criteria, dict) or not isinstance(criteria.get("levels"), dict):
        return False
    levels = criteria["levels"]
    if all(not isinstance(v, dict) or "rank" in v for v in levels.values()):
        return False
    for code, rank in _ranked(levels).items():
        levels[code] = {**levels[code], "rank": levels[code].get("rank", rank)}
    return True


def _rank_override_levels(protocol_levels, parameters):
    criteria = parameters.get("criteria") if isinstance(parameters, dict) else None
    override = criteria.get("levels") if isinstance(criteria, dict) else None
    if not isinstance(override, dict):
        return False
    merged = {}
    for code, level in protocol_levels.items():
        if isinstance(level, dict):
            merged[code] = dict(level)
    for code, level in override.items():
        if level is None:
            merged.pop(code, None)
        elif isinstance(level, dict):
            merged[code] = {**merged.get(code, {}), **level}
    ranks = [level.get("rank") for level in merged.values()]
    if None not in ranks and len(set(ranks)) == len(ranks):
        return False  # every level inherits a rank of its own: the file needs none either
    changed = False
    for code, rank in _ranked(merged).items():
        inherited = (protocol_levels.get(code) or {}).get("rank")
        current = (override.get(code) or {}).get("rank", inherited)
        if current != rank:
            override[code] = {**(override.get(code) or {}), "rank": rank}
            changed = True
    return changed


def _content_hash(content):
    canonical = json.dumps(content, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _history(apps, model_name, instance, fields):
    historical = apps.get_model("trials", f"Historical{model_name}")
    values = {name: getattr(instance, name) for name in fields}
    historical.objects.create(
        **values,
        history_date=timezone.now(),
        history_type="~",
        history_change_reason=REASON,
        history_user=None,
    )


def rank_levels(apps, schema_editor):
    ProtocolVersion = apps.get_model("trials", "ProtocolVersion")
    EndpointDefinition = apps.get_model("trials", "EndpointDefinition")
    version_fields = [
        f.attname for f in ProtocolVersion._meta.concrete_fields if f.attname != "history"
    ]
    endpoint_fields = [f.attname for f in EndpointDefinition._meta.concrete_fields]
    for version in ProtocolVersion.objects.order_by("pk"):
        changed = _rank_protocol_levels(version.response_criteria)
        content = version.content or {}
        changed |= _rank_protocol_levels(content.get("response_criteria"))
        protocol_levels = (version.response_criteria or {}).get("levels") or {}
        for endpoint in content.get("endpoints", []):
            changed |= _rank_override_levels(protocol_levels, endpoint.get("parameters"))
        for definition in EndpointDefinition.objects.filter(protocol_version=version):
            if _rank_override_levels(protocol_levels, definition.parameters):
                definition.version += 1
                definition.save()
                _history(apps, "EndpointDefinition", definition, endpoint_fields)
        if changed:
            version.content_hash = _content_hash(content)
            version.version += 1
            version.save()
            _history(apps, "ProtocolVersion", version, version_fields)


class Migration(migrations.Migration):
    dependencies = [
        ("trials", "0002_history_reason_text"),
    ]

    operations = [migrations.RunPython(rank_levels, migrations.RunPython.noop)]
