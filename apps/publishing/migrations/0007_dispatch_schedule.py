"""Every minute: make sure a dispatcher loop runs (it hands over to its own successor; this is
the watchdog that starts one when none holds the lease)."""

from django.db import migrations


def forwards(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.update_or_create(
        name="publishing-dispatcher",
        defaults={
            "func": "apps.publishing.tasks.dispatch_loop",
            "schedule_type": "I",
            "minutes": 1,
            "repeats": -1,
        },
    )


def backwards(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name="publishing-dispatcher").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("publishing", "0006_dispatch_lease"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
