"""Member operations: tiers, points and store-credit ledgers."""
