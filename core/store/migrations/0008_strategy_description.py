from tortoise import migrations
from tortoise.migrations import operations as ops
from core.domain import Strategy
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0007_installations')]

    initial = False

    operations = [
        ops.AlterField(
            model_name='Community',
            name='strategy',
            field=fields.CharEnumField(default=Strategy.LEAST_RECENT, description='how --one picks: a name in core.strategies.REGISTRY', enum_type=Strategy, max_length=16),
        ),
    ]
