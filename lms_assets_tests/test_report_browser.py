"""The course report as a person sees it: opened in headless Chromium, offline.

A probe script, added to a copy of the page, records per section whether it has data,
whether its charts decoded, its table rows, any script error and any resource the page
fetched (there must be none: the report is self-contained).
"""

from __future__ import annotations

import base64
import io
import json
import re

from PIL import Image

from lms_assets.reports.html import write_report
from lms_assets.warehouse import WarehouseResource
from lms_assets_tests.browser import dump_dom
from lms_assets_tests.report_fixtures import COURSE, DAY, load_course

SECTIONS = [
    "enrollment",
    "active",
    "activity",
    "videos",
    "dropoff",
    "problems",
    "grades",
    "risk",
    "quality",
]
PROBE = """<script>
window.errors = [];
window.addEventListener("error", (e) => window.errors.push(String(e.message)));
window.addEventListener("load", () => {
  const sections = [...document.querySelectorAll("section")].map((s) => ({
    id: s.id,
    empty: s.dataset.empty,
    images: [...s.querySelectorAll("img")].map((i) => [i.complete, i.naturalWidth]),
    rows: s.querySelectorAll("table tr").length - 1,
  }));
  const fetched = performance.getEntriesByType("resource").map((r) => r.name);
  const pre = document.createElement("pre");
  pre.id = "probe";
  pre.textContent = JSON.stringify({sections, fetched, errors: window.errors});
  document.body.appendChild(pre);
});
</script>"""


def test_report_renders_every_section_with_data(tmp_path, monkeypatch):
    monkeypatch.delenv("LMS_PSEUDONYM_KEY", raising=False)
    warehouse = WarehouseResource(url=f"sqlite:///{tmp_path / 'warehouse.sqlite'}")
    load_course(warehouse)
    written = write_report(warehouse, tmp_path / "reports", COURSE, DAY)
    assert written.empty_sections == []
    path = written.path
    page = path.read_text(encoding="utf-8")
    assert "http://" not in page and "https://" not in page  # nothing to fetch
    probe = tmp_path / "probe.html"
    probe.write_text(page.replace("<head>", "<head>" + PROBE, 1), encoding="utf-8")

    dom, log = dump_dom(probe.as_uri())
    found = json.loads(re.search(r'<pre id="probe">(.*?)</pre>', dom, re.S).group(1))
    assert found["errors"] == [] and found["fetched"] == []
    assert "CONSOLE" not in log and "Uncaught" not in log, log
    sections = {s["id"]: s for s in found["sections"]}
    assert list(sections) == SECTIONS
    for name, section in sections.items():
        assert section["empty"] == "false", name
        assert section["rows"] > 0, name
        assert all(done and width > 100 for done, width in section["images"]), name
    charts = {name: len(s["images"]) for name, s in sections.items()}
    assert charts == {**dict.fromkeys(SECTIONS, 1), "grades": 2, "quality": 0}
    # No blank chart: each image decodes to a picture of many colours (bars, lines, text).
    for uri in re.findall(r'src="data:image/png;base64,([^"]+)"', page):
        image = Image.open(io.BytesIO(base64.b64decode(uri))).convert("RGB")
        assert len(image.getcolors(maxcolors=1 << 16) or range(1 << 16)) > 20
