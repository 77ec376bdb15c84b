"""The sandbox's research packages: the exporter's format, its quirks, the same learners."""

from __future__ import annotations

from lms_assets.partitions import Partition
from lms_assets.research_packages.parsing import CourseReader
from lms_assets.research_packages.pseudonyms import ripemd160_hex
from lms_assets.research_packages.resources import ResearchPackageFolderResource
from lms_assets.sandbox import University
from lms_assets.sandbox.research_packages import write_research_packages


def test_each_course_has_a_package_that_reads_back_whole(tmp_path) -> None:
    university = University(seed=3, n_courses=4, learners_per_course=(30, 40))
    written = write_research_packages(university, tmp_path)
    assert [p.name.removeprefix("SANDBOX-").split("-")[0] for p in written] == [
        "CS101", "MATH201", "PHY110", "ECON150",
    ]  # fmt: skip
    assert [p.suffix or "folder" for p in written] == ["folder", ".zip", ".gz", "folder"]
    profile = next(written[0].glob("*auth_userprofile-prod-analytics.sql")).read_bytes()
    assert b"\r" in profile and b"\\r\\n" in profile  # raw CRs and escaped CR LF, as in real files
    assert next(written[0].glob("*course_structure*.json")).read_bytes()[:3] == b"\xef\xbb\xbf"
    resource = ResearchPackageFolderResource(path=str(tmp_path))
    found = []
    for path, day in resource.packages():
        assert day == university.today
        package, courses = resource.courses_of(path, day)
        [course_id] = courses
        found.append(course_id)
        course = university.courses[course_id]
        load = CourseReader(
            package,
            courses[course.course_id],
            Partition(course.course_id, day),
            resource.pseudonymizer(),
        ).read()
        # The .sql tables stream (their refusals are known once they are read).
        streamed = {
            t: sum(b.num_rows for b in load.rows[t])
            for t in ("package_enrollments", "package_course_grades")
        }
        assert load.rejected == [] and load.kept == []
        learners = len(course.learners)
        assert len(load.rows["package_users"]) == streamed["package_enrollments"] == learners
        graded = sum(1 for learner in course.learners if learner.grade_percentage is not None)
        assert streamed["package_course_grades"] == graded
        assert len(load.rows["course_videos"]) == len(course.video_content_ids)
        first = load.rows["package_users"][0]
        assert first["username_hash"] == ripemd160_hex(course.learners[0].username)
    assert sorted(found) == sorted(university.courses)
    # The fourth course has issued no certificates: its file is header only.
    fourth = next(written[3].glob("*certificates_generatedcertificate-edge.sql"))
    assert fourth.read_bytes().count(b"\n") == 1
