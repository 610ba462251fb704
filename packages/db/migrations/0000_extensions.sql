-- Trigram indexes on cameras need pg_trgm (bundled with PGlite and with PostgreSQL contrib).
CREATE EXTENSION IF NOT EXISTS pg_trgm;
