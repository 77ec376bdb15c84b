"""lms_assets: a Dagster code location for learning analytics (Open edX, H5P, Moodle, logs)."""
