from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0006_roster_indexes')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Installation',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('platform', fields.CharField(max_length=16)),
                ('enterprise', fields.CharField(default='', max_length=64)),
                ('tenant', fields.CharField(db_index=True, max_length=64)),
                ('app_id', fields.CharField(default='', max_length=64)),
                ('bot_id', fields.CharField(default='', max_length=64)),
                ('bot_user_id', fields.CharField(default='', max_length=64)),
                ('bot_scopes', fields.TextField(default='', unique=False)),
                ('bot_token_sealed', fields.TextField(unique=False)),
                ('installer_id', fields.CharField(default='', max_length=64)),
                ('installed_at', fields.FloatField()),
            ],
            options={'table': 'installation', 'app': 'models', 'unique_together': (('platform', 'enterprise', 'tenant'),), 'pk_attr': 'id', 'table_description': 'A workspace that installed the app by OAuth: its bot token, sealed (never stored plain).'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='OAuthState',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('state', fields.CharField(unique=True, max_length=64)),
                ('expires_at', fields.FloatField(db_index=True)),
            ],
            options={'table': 'oauth_state', 'app': 'models', 'pk_attr': 'id', 'table_description': 'An OAuth `state` handed to a browser on the install page, consumed once on the redirect.'},
            bases=['Model'],
        ),
    ]
