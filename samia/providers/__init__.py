"""External providers behind adapters: one contract, one error taxonomy, one registry."""
