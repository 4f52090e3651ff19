from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from core.store.models import DeliveryState, Mode, RequestState, Role, Strategy
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name='Tenant',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('platform', fields.CharField(max_length=16)),
                ('external_id', fields.CharField(max_length=64)),
                ('name', fields.CharField(default='', max_length=128)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'tenant', 'app': 'models', 'unique_together': (('platform', 'external_id'),), 'pk_attr': 'id', 'table_description': 'One Slack workspace or Discord guild: the wall nothing crosses.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Community',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('tenant', fields.ForeignKeyField('models.Tenant', source_field='tenant_id', db_constraint=True, to_field='id', related_name='communities', on_delete=OnDelete.CASCADE)),
                ('handle', fields.CharField(max_length=32)),
                ('title', fields.CharField(default='', max_length=128)),
                ('description', fields.TextField(default='', unique=False)),
                ('strategy', fields.CharEnumField(default=Strategy.LEAST_RECENT, description='LEAST_RECENT: least-recent\nROUND_ROBIN: round-robin\nRANDOM: random\nLONGEST_IDLE: longest-idle', enum_type=Strategy, max_length=16)),
                ('mention_mode', fields.CharEnumField(default=Mode.AVAILABLE, description='ONE: one\nSOME: some\nAVAILABLE: available\nEVERYONE: everyone', enum_type=Mode, max_length=16)),
                ('capacity', fields.IntField(default=3)),
                ('linked_group', fields.CharField(null=True, max_length=64)),
                ('rr_cursor', fields.IntField(default=0)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'community', 'app': 'models', 'unique_together': (('tenant', 'handle'),), 'pk_attr': 'id', 'table_description': 'A named community of interest inside one tenant.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Contact',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('tenant', fields.ForeignKeyField('models.Tenant', source_field='tenant_id', db_constraint=True, to_field='id', related_name='contacts', on_delete=OnDelete.CASCADE)),
                ('user_id', fields.CharField(max_length=64)),
                ('display_name', fields.CharField(default='', max_length=128)),
                ('tz', fields.CharField(default='UTC', max_length=64)),
                ('dm_channel', fields.CharField(null=True, max_length=64)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'contact', 'app': 'models', 'unique_together': (('tenant', 'user_id'),), 'pk_attr': 'id', 'table_description': "A person's account on one platform, with the address information to reach them."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='LiveView',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('community', fields.ForeignKeyField('models.Community', source_field='community_id', db_constraint=True, to_field='id', related_name='live_views', on_delete=OnDelete.CASCADE)),
                ('channel', fields.CharField(max_length=64)),
                ('message_ref', fields.CharField(null=True, max_length=128)),
            ],
            options={'table': 'live_view', 'app': 'models', 'pk_attr': 'id', 'table_description': "A message kept current with a community's availability (Discord's pinned view)."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Membership',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('community', fields.ForeignKeyField('models.Community', source_field='community_id', db_constraint=True, to_field='id', related_name='memberships', on_delete=OnDelete.CASCADE)),
                ('contact', fields.ForeignKeyField('models.Contact', source_field='contact_id', db_constraint=True, to_field='id', related_name='memberships', on_delete=OnDelete.CASCADE)),
                ('role', fields.CharEnumField(default=Role.MEMBER, description='OWNER: owner\nMEMBER: member', enum_type=Role, max_length=8)),
                ('joined_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('last_asked_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('last_accepted_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('asks', fields.IntField(default=0)),
                ('accepts', fields.IntField(default=0)),
            ],
            options={'table': 'membership', 'app': 'models', 'unique_together': (('community', 'contact'),), 'pk_attr': 'id', 'table_description': 'A contact in a community, with the counters fairness is computed from.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Request',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('tenant', fields.ForeignKeyField('models.Tenant', source_field='tenant_id', db_constraint=True, to_field='id', related_name='requests', on_delete=OnDelete.CASCADE)),
                ('community', fields.ForeignKeyField('models.Community', source_field='community_id', db_constraint=True, to_field='id', related_name='requests', on_delete=OnDelete.CASCADE)),
                ('requester', fields.ForeignKeyField('models.Contact', source_field='requester_id', db_constraint=True, to_field='id', related_name='requests', on_delete=OnDelete.CASCADE)),
                ('mode', fields.CharEnumField(description='ONE: one\nSOME: some\nAVAILABLE: available\nEVERYONE: everyone', enum_type=Mode, max_length=16)),
                ('wanted', fields.IntField(default=1)),
                ('text', fields.TextField(unique=False)),
                ('origin_channel', fields.CharField(null=True, max_length=64)),
                ('origin_thread', fields.CharField(null=True, max_length=64)),
                ('origin_link', fields.CharField(null=True, max_length=512)),
                ('state', fields.CharEnumField(default=RequestState.OPEN, description='OPEN: open\nFULFILLED: fulfilled\nEXHAUSTED: exhausted\nEXPIRED: expired', enum_type=RequestState, max_length=16)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('closed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'request', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A message addressed to a community, and where to tell the requester what happened.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Delivery',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('request', fields.ForeignKeyField('models.Request', source_field='request_id', db_constraint=True, to_field='id', related_name='deliveries', on_delete=OnDelete.CASCADE)),
                ('target', fields.ForeignKeyField('models.Contact', source_field='target_id', db_constraint=True, to_field='id', related_name='deliveries', on_delete=OnDelete.CASCADE)),
                ('state', fields.CharEnumField(default=DeliveryState.PENDING, db_index=True, description='PENDING: pending\nSENT: sent\nACCEPTED: accepted\nDECLINED: declined\nEXPIRED: expired\nFAILED: failed\nWITHDRAWN: withdrawn', enum_type=DeliveryState, max_length=16)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('sent_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('answered_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('expires_at', fields.DatetimeField(null=True, db_index=True, auto_now=False, auto_now_add=False)),
                ('next_attempt_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('attempts', fields.IntField(default=0)),
                ('claimed_by', fields.CharField(null=True, max_length=64)),
                ('claimed_until', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('message_ref', fields.CharField(null=True, max_length=128)),
                ('error', fields.CharField(null=True, max_length=255)),
            ],
            options={'table': 'delivery', 'app': 'models', 'pk_attr': 'id', 'table_description': 'One message to one target, written before it is sent so nothing is lost in a crash.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Resolution',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('request', fields.ForeignKeyField('models.Request', source_field='request_id', db_constraint=True, to_field='id', related_name='resolutions', on_delete=OnDelete.CASCADE)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('strategy', fields.CharField(max_length=16)),
                ('chosen', fields.JSONField(encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('skipped', fields.JSONField(encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
            ],
            options={'table': 'resolution', 'app': 'models', 'pk_attr': 'id', 'table_description': 'The audit of one resolution: who was chosen, who was skipped and why.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Subscription',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('tenant', fields.ForeignKeyField('models.Tenant', source_field='tenant_id', db_constraint=True, to_field='id', related_name='subscriptions', on_delete=OnDelete.CASCADE)),
                ('subscriber', fields.ForeignKeyField('models.Contact', source_field='subscriber_id', db_constraint=True, to_field='id', related_name='subscriptions', on_delete=OnDelete.CASCADE)),
                ('community', fields.ForeignKeyField('models.Community', source_field='community_id', db_constraint=True, to_field='id', related_name='subscriptions', on_delete=OnDelete.CASCADE)),
                ('once', fields.BooleanField(default=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'subscription', 'app': 'models', 'unique_together': (('subscriber', 'community'),), 'pk_attr': 'id', 'table_description': "Someone following a community's availability: pushed on each change, or once."},
            bases=['Model'],
        ),
    ]
