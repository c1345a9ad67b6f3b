from django.apps import AppConfig


class EmulatorConfig(AppConfig):
    name = "apps.emulator"
    label = "emulator"
    verbose_name = "Sandbox (TikTok + Instagram emulator)"
