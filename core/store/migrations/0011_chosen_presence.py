from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0010_retention')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Contact',
            name='hours_days',
            field=fields.CharField(default='', max_length=7),
        ),
        ops.AddField(
            model_name='Contact',
            name='hours_end',
            field=fields.IntField(default=0),
        ),
        ops.AddField(
            model_name='Contact',
            name='hours_start',
            field=fields.IntField(null=True),
        ),
        ops.AddField(
            model_name='Contact',
            name='hours_tz',
            field=fields.CharField(default='UTC', max_length=64),
        ),
        ops.AddField(
            model_name='Contact',
            name='override',
            field=fields.CharField(null=True, max_length=16),
        ),
        ops.AddField(
            model_name='Contact',
            name='override_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Contact',
            name='override_note',
            field=fields.CharField(default='', max_length=128),
        ),
        ops.AddField(
            model_name='Contact',
            name='override_until',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
    ]
