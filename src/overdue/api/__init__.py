"""The HTTP API: FastAPI over the services, with users, roles, tokens, masking and an audit trail.

- :mod:`.app`: ``create_app(engine)``, the application; :mod:`.routes_accounts` and
  :mod:`.routes_collections` its endpoints, thin over :mod:`overdue.services`;
- :mod:`.deps`: who is asking (bearer token) and the one table of what each role may do;
- :mod:`.queries`: what the API reads, with per-role visibility in the queries;
- :mod:`.masking`: personal data masked by role (pure);
- :mod:`.security` and :mod:`.users`: passwords (argon2), tokens (stored as SHA-256), users;
- :mod:`.audit`: the append-only, hash-chained audit log and its verification;
- :mod:`.problems`: every error as ``application/problem+json``;
- :mod:`.schemas`: request bodies (Pydantic).
"""
