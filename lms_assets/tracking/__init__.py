"""Open edX tracking logs (seed 003): streaming ingestion and engagement tables."""
