"""The shared cache's database table (settings.CACHE_TABLE), created by `migrate` so that no
deployment needs an extra `createcachetable` step. Created whichever cache is configured now: a
deployment that drops REDIS_URL later finds it there."""

from django.core.management import call_command
from django.db import migrations

CACHE_TABLE = "switchboard_cache"


def create_cache_table(apps, schema_editor):
    call_command(
        "createcachetable", CACHE_TABLE, database=schema_editor.connection.alias, verbosity=0
    )


def drop_cache_table(apps, schema_editor):
    schema_editor.execute(f"DROP TABLE IF EXISTS {schema_editor.quote_name(CACHE_TABLE)}")


class Migration(migrations.Migration):
    dependencies = [("common", "0002_heartbeat_schedule")]

    operations = [migrations.RunPython(create_cache_table, drop_cache_table)]
