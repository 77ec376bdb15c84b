"""LTI coding-exercise attempts (seed 002): attempts, daily stats, Sheets report, email, BI views."""
