"""Alembic environment of the warehouse, driven programmatically (no alembic.ini).

``upgrade_warehouse`` (and ``python -m lms_assets.warehouse.migrations``) pass an open
connection in ``config.attributes["connection"]``; this file never opens one itself.
"""

from __future__ import annotations

from alembic import context

from lms_assets.warehouse import schema

config = context.config
# Every source package's tables (the code location registers them on the shared MetaData).
target_metadata = schema.registered_metadata()


def run_migrations() -> None:
    connection = config.attributes.get("connection")
    if connection is None:
        raise RuntimeError(
            "the warehouse migrations need config.attributes['connection']: run them through "
            "lms_assets.warehouse.migrations (upgrade_warehouse, or python -m ...), not alembic"
        )
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        compare_type=True,
        # Views on the metadata (schema.is_view) are written into their revision by hand.
        include_object=lambda item, _name, type_, *_: (
            not (type_ == "table" and schema.is_view(item))
        ),
        # SQLite cannot ALTER a column's type: batch ops recreate the table there and are
        # plain ALTERs on MySQL/MariaDB, so a generated revision runs on both.
        render_as_batch=True,
        on_version_apply=config.attributes.get("on_version_apply", ()),
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise RuntimeError("offline (--sql) mode is not supported: migrate a scratch database")
run_migrations()
