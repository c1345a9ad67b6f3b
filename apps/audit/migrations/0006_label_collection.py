"""AuditLabel fills itself: a trigger adds each new event's labels (actor, client, target), and
the labels of the events already there are copied once, here.

A trigger rather than code, so that every way of appending events keeps the table complete —
audit_record, and bulk loads such as the benchmark's. Created in the same transaction as the
copy: CREATE TRIGGER waits for inserts in flight, so no event falls between the two.

On PostgreSQL the labels also get a trigram index (pg_trgm), so searching them stays fast when
an agency has hundreds of thousands of distinct labels; on SQLite the search reads them all.
"""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

POSTGRESQL_CREATE = """
CREATE OR REPLACE FUNCTION audit_label_collect() RETURNS trigger AS $$
BEGIN
    INSERT INTO audit_auditlabel (text)
    SELECT DISTINCT v.label
    FROM (VALUES (NEW.actor_label), (NEW.client_label), (NEW.target_label)) AS v(label)
    WHERE v.label <> ''
      AND NOT EXISTS (SELECT 1 FROM audit_auditlabel l WHERE l.text = v.label)
    ON CONFLICT (text) DO NOTHING;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS audit_label_collect ON audit_auditevent;
CREATE TRIGGER audit_label_collect
    AFTER INSERT ON audit_auditevent
    FOR EACH ROW EXECUTE FUNCTION audit_label_collect();

CREATE INDEX IF NOT EXISTS audit_label_text_trgm
    ON audit_auditlabel USING gin ((upper(text::text)) gin_trgm_ops);
"""

POSTGRESQL_DROP = """
DROP TRIGGER IF EXISTS audit_label_collect ON audit_auditevent;
DROP FUNCTION IF EXISTS audit_label_collect();
DROP INDEX IF EXISTS audit_label_text_trgm;
"""

SQLITE_CREATE = """
CREATE TRIGGER IF NOT EXISTS audit_label_collect AFTER INSERT ON audit_auditevent
BEGIN
    INSERT OR IGNORE INTO audit_auditlabel (text)
        SELECT NEW.actor_label WHERE NEW.actor_label <> '';
    INSERT OR IGNORE INTO audit_auditlabel (text)
        SELECT NEW.client_label WHERE NEW.client_label <> '';
    INSERT OR IGNORE INTO audit_auditlabel (text)
        SELECT NEW.target_label WHERE NEW.target_label <> '';
END;
"""

SQLITE_DROP = "DROP TRIGGER IF EXISTS audit_label_collect;"

COPY_EXISTING = """
INSERT INTO audit_auditlabel (text)
SELECT actor_label FROM audit_auditevent WHERE actor_label <> ''
UNION SELECT client_label FROM audit_auditevent WHERE client_label <> ''
UNION SELECT target_label FROM audit_auditevent WHERE target_label <> ''
"""


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRESQL_CREATE, params=None)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_CREATE, params=None)
    else:  # pragma: no cover - Switchboard runs on PostgreSQL and SQLite (DESIGN §3)
        raise NotImplementedError(f"No label trigger for {vendor}")
    schema_editor.execute(COPY_EXISTING, params=None)


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    schema_editor.execute(POSTGRESQL_DROP if vendor == "postgresql" else SQLITE_DROP, params=None)
    schema_editor.execute("DELETE FROM audit_auditlabel", params=None)


class Migration(migrations.Migration):
    dependencies = [("audit", "0005_log_filters")]

    operations = [
        TrigramExtension(),
        migrations.RunPython(forwards, backwards),
    ]
