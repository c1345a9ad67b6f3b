from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo and the benchmark: management commands only, no models, no URLs."""

    name = "apps.demo"
    label = "demo"
    verbose_name = "Demo and benchmark"
