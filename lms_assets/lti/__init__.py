"""LTI coding-exercise attempts (seed 002): attempts, stats, Sheets report, email, BI views."""
