"""API: registry and ledger (SQL), queries, and the operator/dispatcher/billing pages."""
