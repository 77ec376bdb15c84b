"""Open edX custom API (``/api/custom/v1``) and H5P API sources: seed 000."""
