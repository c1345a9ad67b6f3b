"""The worker heartbeat runs every minute (django-q2's shortest schedule)."""

from django.db import migrations

HEARTBEAT = "apps.common.tasks.heartbeat"


def forwards(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.update_or_create(
        name="worker-heartbeat",
        defaults={"func": HEARTBEAT, "schedule_type": "I", "minutes": 1, "repeats": -1},
    )


def backwards(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name="worker-heartbeat").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("common", "0001_initial"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
