from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from core.domain import RequestState
from json import dumps, loads
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0004_live_view_unique')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Community',
            name='api_token_hash',
            field=fields.CharField(null=True, db_index=True, max_length=64),
        ),
        ops.AddField(
            model_name='Community',
            name='api_token_owner_id',
            field=fields.IntField(null=True),
        ),
        ops.AddField(
            model_name='Community',
            name='escalation',
            field=fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads),
        ),
        ops.AlterField(
            model_name='Request',
            name='state',
            field=fields.CharEnumField(default=RequestState.OPEN, db_index=True, description='OPEN: open\nFULFILLED: fulfilled\nEXHAUSTED: exhausted\nEXPIRED: expired\nRESOLVED: resolved', enum_type=RequestState, max_length=16),
        ),
        ops.AddField(
            model_name='Request',
            name='external_key',
            field=fields.CharField(null=True, db_index=True, max_length=160),
        ),
        ops.AddField(
            model_name='Request',
            name='next_step_at',
            field=fields.DatetimeField(null=True, db_index=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Request',
            name='step',
            field=fields.IntField(default=0),
        ),
        ops.AddField(
            model_name='Resolution',
            name='note',
            field=fields.CharField(default='', max_length=128),
        ),
    ]
