"""Moodle course activity (seed 001): read-only queries on Moodle's own database."""
