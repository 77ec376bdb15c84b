"""lms_assets: a Dagster code location for learning analytics (Open edX, H5P, Moodle, logs).

The Beta/Preview APIs we chose on purpose (``backfill_policy``, partition mappings,
freshness policies, declarative automation) warn once per use at import; every process
that loads the code location (webserver, daemon, code server, run workers, the CLI) would
print them all. We know, and say so once here, instead of in every terminal.
"""

import warnings

import dagster as _dg

warnings.filterwarnings("ignore", category=_dg.BetaWarning)
warnings.filterwarnings("ignore", category=_dg.PreviewWarning)
