"""The weighbridge's ledger: clients, vehicles, waste types, tickets, their PDF and messages."""
