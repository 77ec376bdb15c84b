"""The dagster CLI, minus its advice to use ``dg`` (this is a code location run by the
dagster CLI on purpose; ``dg`` needs a dg project). Used by ``lms-assets ui``."""

import warnings

import dagster as dg
from dagster._cli import main  # the same entry point as `python -m dagster`

warnings.filterwarnings("ignore", category=dg.SupersessionWarning)

if __name__ == "__main__":
    main()
