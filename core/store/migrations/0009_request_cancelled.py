"""A requester may cancel an open ask: `cancelled` joins the request states (a varchar, so no
data changes; only the column's described choices)."""

from tortoise import migrations
from tortoise.migrations import operations as ops
from core.domain import RequestState
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0008_strategy_description')]

    initial = False

    operations = [
        ops.AlterField(
            model_name='Request',
            name='state',
            field=fields.CharEnumField(default=RequestState.OPEN, db_index=True, description='OPEN: open\nFULFILLED: fulfilled\nEXHAUSTED: exhausted\nEXPIRED: expired\nRESOLVED: resolved\nCANCELLED: cancelled', enum_type=RequestState, max_length=16),
        ),
    ]
