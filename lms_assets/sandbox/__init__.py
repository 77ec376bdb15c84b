"""The LMS sandbox: a deterministic synthetic university served over loopback HTTP.

The demo and the tests run against it; production points the same resources at
real URLs. See docs/sandbox.md for the endpoints, response shapes and knobs.
"""

from lms_assets.sandbox.server import FaultConfig, Sandbox
from lms_assets.sandbox.university import University

__all__ = ["FaultConfig", "Sandbox", "University"]
