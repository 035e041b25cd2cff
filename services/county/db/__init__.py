"""The county database: tables, engine, migrations."""
