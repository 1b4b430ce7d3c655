"""The pytest plugin (placeholder until written below)."""
