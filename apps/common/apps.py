from __future__ import annotations

from django.apps import AppConfig
from django.db.backends.signals import connection_created


def _sqlite_pragmas(sender: object, connection: object, **kwargs: object) -> None:
    # Web and worker processes share one SQLite file; WAL lets readers and one writer coexist.
    if getattr(connection, "vendor", None) == "sqlite":
        with connection.cursor() as cursor:  # type: ignore[attr-defined]
            cursor.execute("PRAGMA journal_mode=WAL;")
            cursor.execute("PRAGMA synchronous=NORMAL;")


class CommonConfig(AppConfig):
    name = "apps.common"
    label = "common"

    def ready(self) -> None:
        connection_created.connect(_sqlite_pragmas, dispatch_uid="switchboard-sqlite-pragmas")
