from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.migrations.constraints import UniqueConstraint

class Migration(migrations.Migration):
    dependencies = [('models', '0003_inbound_event')]

    initial = False

    operations = [
        ops.AlterModelOptions(
            name='LiveView',
            options={'table': 'live_view', 'app': 'models', 'unique_together': (('community', 'channel'),), 'pk_attr': 'id', 'table_description': "A message kept current with a community's availability: one per community and channel."},
        ),
        ops.AddConstraint(
            model_name='LiveView',
            constraint=UniqueConstraint(fields=('community', 'channel'), name=None),
        ),
    ]
