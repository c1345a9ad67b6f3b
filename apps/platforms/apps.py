from django.apps import AppConfig
from django.core import checks


class PlatformsConfig(AppConfig):
    name = "apps.platforms"
    label = "platforms"

    def ready(self) -> None:
        from apps.platforms.checks import instagram_graph_version

        checks.register(instagram_graph_version, checks.Tags.compatibility)
