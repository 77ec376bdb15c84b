"""Course reports and the default analytic tasks, across sources (seed 003)."""
