-- PostgreSQL set-up for distributed mode (SPEC OPS-2; RELIABILITY S2, D1).
-- One database and one least-privilege role per service. Run once as a superuser:
--   psql -v ON_ERROR_STOP=1 [-v prefix=prevention] -f infra/postgres/init.sql
-- then give each role its password from the Secret the chart reads
-- (ALTER ROLE prevention_identity PASSWORD '...'), and keep the durability settings on:
-- fsync, synchronous_commit and full_page_writes (the defaults; never turn them off).
--
-- Each role owns its own database only (migrations run as it) and is neither superuser nor
-- BYPASSRLS: the services' tables FORCE row-level security, which binds the owner too, so a
-- query that forgot its tenant filter still sees only the caller's tenant.

\if :{?prefix}
\else
  \set prefix prevention
\endif

SELECT format('CREATE ROLE %I LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE NOREPLICATION',
              :'prefix' || '_' || service)
FROM unnest(ARRAY['identity', 'sharing', 'training', 'assessment']) AS service
\gexec

SELECT format('CREATE DATABASE %I OWNER %I ENCODING ''UTF8'' TEMPLATE template0',
              :'prefix' || '_' || service, :'prefix' || '_' || service)
FROM unnest(ARRAY['identity', 'sharing', 'training', 'assessment']) AS service
\gexec

-- No service connects to another service's database (SPEC 7.1: services never share data
-- except over gRPC).
SELECT format('REVOKE ALL ON DATABASE %I FROM PUBLIC', :'prefix' || '_' || service)
FROM unnest(ARRAY['identity', 'sharing', 'training', 'assessment']) AS service
\gexec
