"""The default analytic tasks on a hand-made course (report_fixtures.py), on both backends."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from lms_assets.reports import tasks
from lms_assets.research_packages.pseudonyms import ripemd160_hex
from lms_assets_tests.report_fixtures import COURSE, D1, D2, DAY, P1, P2, V1, V2, load_course


@pytest.fixture
def course(warehouse, monkeypatch):
    monkeypatch.delenv("LMS_PSEUDONYM_KEY", raising=False)
    load_course(warehouse)
    return warehouse


def run(warehouse, name: str) -> list[dict]:
    return tasks.run_task(warehouse, COURSE, name, DAY).to_dict("records")


def test_enrollment_over_time(course):
    assert run(course, "enrollment_over_time") == [
        {"date": dt.date(2026, 2, 20), "new_enrollments": 2, "enrolled": 2},
        {"date": dt.date(2026, 3, 1), "new_enrollments": 1, "enrolled": 3},
        {"date": dt.date(2026, 3, 5), "new_enrollments": 1, "enrolled": 4},
    ]


def test_daily_active_learners(course):
    assert run(course, "daily_active_learners") == [
        {"date": D1, "active_learners": 2, "events": 15, "active_minutes": 15.5},
        {"date": D2, "active_learners": 1, "events": 6, "active_minutes": 8.0},
        {"date": DAY, "active_learners": 1, "events": 4, "active_minutes": 5.5},
    ]


def test_activity_by_type(course):
    rows = run(course, "activity_by_type")
    assert [r["week"] for r in rows] == [dt.date(2026, 3, 2), dt.date(2026, 3, 9)]
    assert {k: rows[0][k] for k in ("pages_viewed", "video_plays", "video_pauses")} == {
        "pages_viewed": 9,
        "video_plays": 3,
        "video_pauses": 1,
    }
    assert (rows[0]["problem_checks"], rows[0]["forum_posts"], rows[0]["other"]) == (5, 1, 2)
    assert (rows[1]["pages_viewed"], rows[1]["problem_checks"], rows[1]["other"]) == (1, 2, 0)


def test_videos_and_drop_off(course):
    assert run(course, "videos") == [
        {"video_id": V1, "viewers": 2, "completed": 1, "completion_pct": 50.0},
        {"video_id": V2, "viewers": 1, "completed": 1, "completion_pct": 100.0},
    ]
    drop = {
        (r["video_id"], r["position_pct"]): r["still_watching_pct"]
        for r in run(course, "video_drop_off")
    }
    assert [drop[(V1, p)] for p in range(0, 101, 10)] == [100.0] * 5 + [50.0] * 6
    assert {drop[(V2, p)] for p in range(0, 101, 10)} == {100.0}


def test_problem_performance(course):
    rows = run(course, "problem_performance")
    assert [(r["problem_id"], r["attempts"], r["learners"], r["correct_pct"]) for r in rows] == [
        (P1, 4, 3, 50.0),
        (P2, 1, 1, 100.0),
    ]
    assert [(r["first_tries"], r["first_try_success_pct"]) for r in rows] == [(3, 33.3), (1, 100.0)]


def test_grade_and_completion_distributions(course):
    grades = {r["grade"]: (r["learners"], r["passed"]) for r in run(course, "grade_distribution")}
    assert grades["90-100"] == (1, 1) and grades["70-80"] == (1, 1) and grades["40-50"] == (1, 0)
    assert sum(n for n, _ in grades.values()) == 3  # learner4 has no grade
    completion = {r["completion"]: r["learners"] for r in run(course, "completion_distribution")}
    assert {k: v for k, v in completion.items() if v} == {
        "0-10": 1,
        "10-20": 1,
        "60-70": 1,
        "90-100": 1,
    }


def test_learners_at_risk(course):
    rows = run(course, "learners_at_risk")
    assert [r["learner"] for r in rows] == [ripemd160_hex("learner4"), ripemd160_hex("learner3")]
    assert rows[0]["reasons"] == (
        "dropout (inactive, idle over 30 days); no activity for 14+ days; "
        "completion 20+ points below average"
    )
    assert rows[1]["reasons"] == (
        "no activity for 14+ days; completion 20+ points below average; grade in the bottom quarter"
    )
    assert all("learner" not in str(v) for r in rows for k, v in r.items() if k != "learner")


def test_data_quality(course):
    rows = {
        (r["check"], r["table"]): (r["status"], r["count"]) for r in run(course, "data_quality")
    }
    assert rows[("rows_stored", "enrollments")] == ("pass", 4)
    assert rows[("rows_stored", "raw_data")] == ("pass", 4)
    assert rows[("rows_stored", "video_engagement")] == ("no rows", 0)
    assert rows[("every_enrollment_has_a_row", "raw_data")] == ("pass", 0)
    # The fixture's raw_data has no tracking columns although activity is stored: caught.
    assert rows[("tracking_features_present", "raw_data")] == ("fail", 1)
    assert rows[("records_refused", "enrollments")] == ("warn", 2)
    assert rows[("log_lines_quarantined (whole site)", "tracking_quarantine")] == ("warn", 3)


def test_unknown_task_is_named(warehouse):
    with pytest.raises(ValueError, match="unknown task 'nope'; the tasks are enrollment_over_time"):
        tasks.run_task(warehouse, COURSE, "nope", DAY)


def cli(warehouse, tmp_path, *args: str):
    from lms_assets_tests.test_cli_errors import lms_assets

    return lms_assets(
        tmp_path,
        *args,
        LMS_WAREHOUSE_URL=warehouse.url,
        LMS_REPORTS_DIR=str(tmp_path / "reports"),
        LMS_PSEUDONYM_KEY=None,
    )


def test_analyze_writes_csv_parquet_and_markdown(course, tmp_path):
    result = cli(course, tmp_path, "analyze", COURSE, "videos", "--date", DAY.isoformat())
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "video_id,viewers,completed,completion_pct",
        f"{V1},2,1,50.0",
        f"{V2},1,1,100.0",
    ]
    assert result.stderr.strip() == "videos: 2 rows"
    out = tmp_path / "problems.parquet"
    args = ("analyze", COURSE, "problem_performance", "--date", DAY.isoformat())
    assert cli(course, tmp_path, *args, "--format", "parquet", "--output", str(out)).returncode == 0
    frame = pd.read_parquet(out)
    assert list(frame["problem_id"]) == [P1, P2]
    assert list(frame["first_try_success_pct"]) == [33.3, 100.0]
    md = cli(course, tmp_path, *args, "--format", "md").stdout.splitlines()
    assert md[0].split("|")[1].strip() == "problem_id" and len(md) == 4


def test_analyze_list_names_every_task_in_one_line(tmp_path):
    from lms_assets_tests.test_cli_errors import lms_assets

    result = lms_assets(tmp_path, "analyze", "--list")
    assert result.returncode == 0
    assert [line.split()[0] for line in result.stdout.splitlines()] == list(tasks.TASKS)


def test_analyze_refuses_an_unknown_task_in_one_line(course, tmp_path):
    result = cli(course, tmp_path, "analyze", COURSE, "grades")
    assert result.returncode == 2
    assert result.stderr.startswith("lms-assets analyze: unknown task 'grades'; the tasks are ")


def test_report_prints_the_path_of_the_page(course, tmp_path):
    result = cli(course, tmp_path, "report", COURSE, "--date", DAY.isoformat())
    assert result.returncode == 0, result.stderr
    path = tmp_path / "reports" / "course-v1_Test_R101_2026_T1" / "2026-03-10.html"
    assert result.stdout.strip() == str(path)
    page = path.read_text(encoding="utf-8")
    assert page.count("<section ") == 9 and 'data-empty="true"' not in page
    other = cli(course, tmp_path, "report", "course-v1:Test+NONE+2026", "--date", "2026-03-10")
    assert other.returncode == 2 and "no enrollments, activity or raw_data stored" in other.stderr


def test_course_report_asset_writes_the_page_and_links_it(course, instance, tmp_path):
    import dagster as dg

    from lms_assets import partitions
    from lms_assets.partitions import Partition
    from lms_assets.reports.assets import ReportFolderResource, course_report

    partitions.register_courses(instance, partitions.openedx_courses, [COURSE, "course-v1:T+E+1"])
    folder = tmp_path / "reports"
    resources = {"warehouse": course, "reports": ReportFolderResource(path=str(folder))}
    result = dg.materialize(
        [course_report],
        instance=instance,
        resources=resources,
        partition_key=Partition(COURSE, DAY).partition_key,
    )
    assert result.success
    path = folder / "course-v1_Test_R101_2026_T1" / "2026-03-10.html"
    event = result.asset_materializations_for_node("course_report")[0]
    assert event.metadata["path"].value == str(path)
    assert event.metadata["link"].value == path.as_uri()
    assert path.read_text(encoding="utf-8").count("<section ") == 9
    [check] = result.get_asset_check_evaluations()
    assert check.passed and check.metadata["reports_with_empty_sections"].value == 0
    # A course with nothing stored gets a page that says so, and the check warns.
    empty = dg.materialize(
        [course_report],
        instance=instance,
        resources=resources,
        partition_key=Partition("course-v1:T+E+1", DAY).partition_key,
    )
    [check] = empty.get_asset_check_evaluations()
    assert not check.passed and "enrollment, active, activity" in check.metadata["first"].value
