from django.apps import AppConfig


class StaffConfig(AppConfig):
    name = "apps.staff"
    label = "staff"
    verbose_name = "Staff"

    def ready(self) -> None:
        from apps.staff import receivers  # noqa: F401  (allauth sign-in/MFA signals → audit)
        from apps.staff.ratelimits import apply_lock_wait

        apply_lock_wait()
