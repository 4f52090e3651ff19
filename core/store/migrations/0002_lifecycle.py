from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from core.domain import NoticeKind, NoticeState, RequestState
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.migrations.constraints import UniqueConstraint

class Migration(migrations.Migration):
    dependencies = [('models', '0001_initial')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Notice',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('key', fields.CharField(unique=True, max_length=96)),
                ('platform', fields.CharField(db_index=True, max_length=16)),
                ('tenant', fields.ForeignKeyField('models.Tenant', source_field='tenant_id', db_constraint=True, to_field='id', related_name='notices', on_delete=OnDelete.CASCADE)),
                ('request', fields.ForeignKeyField('models.Request', source_field='request_id', null=True, db_constraint=True, to_field='id', related_name='notices', on_delete=OnDelete.CASCADE)),
                ('subscription_id', fields.IntField(null=True)),
                ('kind', fields.CharEnumField(description='TELL: tell\nDM: dm\nEDIT: edit\nREPLY: reply', enum_type=NoticeKind, max_length=8)),
                ('outcome', fields.BooleanField(default=False)),
                ('recipient', fields.CharField(max_length=64)),
                ('channel', fields.CharField(null=True, max_length=64)),
                ('thread', fields.CharField(null=True, max_length=64)),
                ('ref', fields.CharField(null=True, max_length=128)),
                ('body', fields.JSONField(encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('state', fields.CharEnumField(default=NoticeState.PENDING, db_index=True, description='PENDING: pending\nSENT: sent\nFAILED: failed', enum_type=NoticeState, max_length=8)),
                ('attempts', fields.IntField(default=0)),
                ('tries', fields.IntField(default=0)),
                ('claimed_by', fields.CharField(null=True, max_length=64)),
                ('claimed_until', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('sent_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('error', fields.CharField(null=True, max_length=255)),
            ],
            options={'table': 'notice', 'app': 'models', 'pk_attr': 'id', 'table_description': "A message the core owes (a follow-up, an edit, a push), written in the transition's"},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Delivery',
            name='platform',
            field=fields.CharField(default='', db_index=True, max_length=16),
        ),
        ops.AddField(
            model_name='Delivery',
            name='tries',
            field=fields.IntField(default=0),
        ),
        ops.AddConstraint(
            model_name='Delivery',
            constraint=UniqueConstraint(fields=('request', 'target'), name=None),
        ),
        ops.AlterField(
            model_name='Request',
            name='state',
            field=fields.CharEnumField(default=RequestState.OPEN, db_index=True, description='OPEN: open\nFULFILLED: fulfilled\nEXHAUSTED: exhausted\nEXPIRED: expired', enum_type=RequestState, max_length=16),
        ),
        ops.AddField(
            model_name='Request',
            name='platform',
            field=fields.CharField(default='', max_length=16),
        ),
        ops.AddField(
            model_name='Request',
            name='version',
            field=fields.IntField(default=0),
        ),
        # Rows from before this migration belong to their tenant's platform: the sweepers of
        # each platform's process find them by this column.
        ops.RunSQL(
            [
                "UPDATE request SET platform = (SELECT t.platform FROM tenant t WHERE t.id = request.tenant_id) WHERE platform = ''",
                "UPDATE delivery SET platform = (SELECT r.platform FROM request r WHERE r.id = delivery.request_id) WHERE platform = ''",
            ],
            reverse_sql=[],
        ),
    ]
