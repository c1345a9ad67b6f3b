from django.apps import AppConfig
from django.core import checks


class PublishingConfig(AppConfig):
    name = "apps.publishing"
    label = "publishing"
    verbose_name = "Publishing"

    def ready(self) -> None:
        # DESIGN §3: publishing → connections. Connections calls these at its typed hook points.
        from apps.connections import hooks
        from apps.publishing import handlers
        from apps.publishing.checks import dispatcher_fits_the_task_timeout
        from apps.publishing.pipeline import events

        hooks.register_publish_work_handler(handlers.account_blocked)
        hooks.register_publish_event_handler(events.tiktok_publish_event)
        checks.register(dispatcher_fits_the_task_timeout)
