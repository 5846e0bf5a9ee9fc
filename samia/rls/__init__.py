"""DB-first row-level security: one declaration, two enforcers (Postgres policies and API guards)."""
