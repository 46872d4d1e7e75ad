"""SQL functions SQLite lacks, registered on each of its connections (``make run``'s database).

``LB_UPPER``: Unicode upper case, as PostgreSQL's ``UPPER`` and Python's ``str.upper`` give it;
SQLite's own ``UPPER`` and ``LIKE`` fold ASCII letters only ("über" ≠ "ÜBER"), so case-blind
comparisons of names and countries would miss on the local demo what they find in production.
"""

from django.db.backends.signals import connection_created

UPPER = "LB_UPPER"


def _upper(value):
    return value.upper() if isinstance(value, str) else value


def register(sender, connection, **kwargs) -> None:
    if connection.vendor == "sqlite":
        connection.connection.create_function(UPPER, 1, _upper, deterministic=True)


def connect() -> None:
    connection_created.connect(register, dispatch_uid="core.sqlite.register")
