from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0002_lifecycle')]

    initial = False

    operations = [
        ops.CreateModel(
            name='InboundEvent',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('platform', fields.CharField(max_length=16)),
                ('tenant', fields.CharField(max_length=64)),
                ('event_id', fields.CharField(max_length=64)),
                ('seen_at', fields.FloatField(db_index=True)),
                ('done', fields.BooleanField(default=False)),
            ],
            options={'table': 'inbound_event', 'app': 'models', 'unique_together': (('platform', 'tenant', 'event_id'),), 'pk_attr': 'id', 'table_description': 'A platform event id we have taken on, so a retry to any process is not a second request.'},
            bases=['Model'],
        ),
    ]
