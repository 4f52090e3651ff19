"""Indexes in each strategy's roster order, so a page of the walk reads only its own rows."""

from typing import Any

from tortoise import migrations
from tortoise.migrations import operations as ops

# PostgreSQL sorts NULL last by default; the walk reads never-asked members first.
_FIRST = {"postgres": " NULLS FIRST", "sqlite": ""}
_CREATE = (
    "CREATE INDEX IF NOT EXISTS idx_membership_least_recent ON membership"
    " (community_id, last_asked_at{nf}, joined_at, contact_id)",
    "CREATE INDEX IF NOT EXISTS idx_membership_longest_idle ON membership"
    " (community_id, last_accepted_at{nf}, last_asked_at{nf}, joined_at, contact_id)",
    "CREATE INDEX IF NOT EXISTS idx_delivery_target_state ON delivery (target_id, state)",
)
_DROP = [
    "DROP INDEX IF EXISTS idx_membership_least_recent",
    "DROP INDEX IF EXISTS idx_membership_longest_idle",
    "DROP INDEX IF EXISTS idx_delivery_target_state",
]


class PerDialect(ops.RunSQL):
    """Raw SQL with the dialect's spelling filled in when it runs."""

    async def _run_sql(self, state_editor: Any, sqls: Any) -> None:
        nf = _FIRST.get(state_editor.client.capabilities.dialect, "")
        if isinstance(sqls, (list, tuple)):
            sqls = [s.format(nf=nf) for s in sqls]
        await super()._run_sql(state_editor, sqls)


class Migration(migrations.Migration):
    dependencies = [("models", "0005_escalation_api")]

    initial = False

    operations = [PerDialect(list(_CREATE), reverse_sql=_DROP)]
