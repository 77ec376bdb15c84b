"""The dagster CLI, minus its advice to use ``dg`` (this is a code location run by the
dagster CLI on purpose; ``dg`` needs a dg project). Used by ``lms-assets ui`` and ``make validate``:
``python -m lms_assets.dagster_cli <any dagster command>``."""

import warnings

import dagster as dg
from dagster._cli import main  # the same entry point as `python -m dagster`

warnings.filterwarnings("ignore", category=dg.SupersessionWarning)

if __name__ == "__main__":
    main()
