"""KPI functions: pure, keyword-only, window and ``now`` passed in; the database computes."""
