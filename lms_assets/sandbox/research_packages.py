"""The sandbox's edX research data packages: the same learners, in the exporter's exact format.

One package per Open edX course, exported on the university's as-of date, each with
the quirks of real packages: the first course a folder with the older file names
(``-prod-analytics.sql``), the second a ``.zip`` with the newer ones (``-prod.sql``),
the third a ``.tar.gz``, and so on; raw unescaped CRs in profile bios and goals,
literal ``\\r\\n`` in mailing addresses, escaped tabs and backslashes, NUL bytes
(removed, as the exporter does: none are written), a byte-order mark on the structure
JSON, header-only files (certificates of a course nobody passed yet, user_id_map),
``i4x://`` module ids beside ``block-v1:`` ones, and enrollment course ids in the
``org/course/run`` form beside ``course-v1:``.
"""

from __future__ import annotations

import io
import json
import random
import tarfile
import zipfile
from collections.abc import Iterable
from pathlib import Path

from lms_assets.sandbox.university import PASS_THRESHOLD, Course, Learner, University

CHAPTERS = 6
GENDERS = ("m", "f", "o", "")
EDUCATION = ("p", "m", "b", "a", "hs", "jhs", "none", "other")
COUNTRIES = ("VN", "US", "FR", "IN", "BR", "NG")
HEADERS = {
    "auth_user": "id username first_name last_name email password is_staff is_active "
    "is_superuser last_login date_joined",
    "auth_userprofile": "id user_id name language location meta courseware gender "
    "mailing_address year_of_birth level_of_education goals country city bio",
    "student_courseenrollment": "id user_id course_id created is_active mode",
    "certificates_generatedcertificate": "id user_id download_url grade course_id key "
    "distinction status verify_uuid download_uuid name created_date modified_date "
    "error_reason mode",
    "grades_persistentcoursegrade": "id user_id course_id course_edited_timestamp "
    "course_version grading_policy_hash percent_grade letter_grade passed_timestamp "
    "created modified",
    "courseware_studentmodule": "id module_type module_id student_id state grade max_grade "
    "done course_id created modified",
    "user_id_map": "hash_id id username",
}
RAW_CR = "<raw CR>"  # replaced by an unescaped CR after the fields are escaped


def _field(value: object) -> str:
    """One field as the exporter writes it: NULL, and backslash, TAB, CR, LF escaped."""
    if value is None:
        return "NULL"
    text = str(value)
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def _tsv(header: Iterable[str], rows: Iterable[Iterable[object]], raw_cr: bool = False) -> bytes:
    lines = ["\t".join(header)]
    for row in rows:
        fields = [_field(v) for v in row]
        lines.append("\t".join(fields))
    data = "\n".join(lines) + "\n"
    if raw_cr:  # what real profile files carry: CRs the exporter did not escape
        data = data.replace(RAW_CR, "\r")
    return data.encode("utf-8")


def _parts(course: Course) -> tuple[str, str, str]:
    org, number, run = course.course_id.removeprefix("course-v1:").split("+")
    return org, number, run


def _block(course: Course, kind: str, name: str) -> str:
    return f"block-v1:{'+'.join(_parts(course))}+type@{kind}+block@{name}"


def structure(course: Course) -> dict:
    """The course structure JSON: course > chapters > sequentials > verticals > problem/video."""
    blocks: dict[str, dict] = {}
    chapters = []
    for c in range(CHAPTERS):
        seq, vert = _block(course, "sequential", f"s{c}"), _block(course, "vertical", f"v{c}")
        leaves = [_block(course, "problem", f"p{c}")]
        videos = [i for i in range(len(course.video_content_ids)) if i % CHAPTERS == c]
        leaves += [_block(course, "video", f"video{i}") for i in videos]
        chapter = _block(course, "chapter", f"c{c}")
        chapters.append(chapter)
        blocks[chapter] = {
            "category": "chapter",
            "children": [seq],
            "metadata": {"display_name": f"Chương {c + 1}"},
        }
        blocks[seq] = {
            "category": "sequential",
            "children": [vert],
            "metadata": {"display_name": f"Bài {c + 1}"},
        }
        blocks[vert] = {"category": "vertical", "children": leaves, "metadata": {}}
        blocks[leaves[0]] = {
            "category": "problem",
            "children": [],
            "metadata": {"display_name": "Quiz", "weight": 1},
        }
        for i in videos:
            blocks[_block(course, "video", f"video{i}")] = {
                "category": "video",
                "children": [],
                "metadata": {
                    "display_name": f"Video {i + 1}",
                    "youtube_id_1_0": f"yt{course.video_content_ids[i]}",
                    "edx_video_id": f"edx-{course.video_content_ids[i]}",
                    "duration": course.video_durations[i],
                },
            }
    root = _block(course, "course", "course")
    blocks = {
        root: {
            "category": "course",
            "children": chapters,
            "metadata": {"display_name": course.display_name},
        },
        **blocks,
    }
    return blocks


def _touched_chapters(learner: Learner) -> int:
    if learner.last_activity is None:
        return 0
    return max(1, round(CHAPTERS * learner.completion_rate / 100))


def course_files(course: Course, index: int) -> dict[str, bytes]:
    """{file name: bytes} of one course's package."""
    org, number, run = _parts(course)
    prefix = f"{org}-{number}-{run}"
    site = "edge" if index % 4 == 3 else "prod"
    suffix = f"-{site}-analytics.sql" if index % 2 == 0 else f"-{site}.sql"
    slash_id = f"{org}/{number}/{run}"
    rng = random.Random(f"package:{course.course_id}")
    users, profiles, enrollments, certificates, grades, modules, posts = [], [], [], [], [], [], []
    module_id = 0
    for n, learner in enumerate(course.learners):
        family, *rest = learner.full_name.split(" ")
        users.append(
            [
                learner.user_id,
                learner.username,
                " ".join(rest),
                family,
                learner.email,
                "pbkdf2_sha256$x",
                0,
                1,
                0,
                None,
                learner.enrolled_at.replace(microsecond=0),
            ]
        )
        bio = f"Xin chào{RAW_CR}tôi học" if n % 5 == 0 else None
        address = "12 Lê Lợi\r\nHà Nội" if n % 3 == 0 else None  # escaped: a literal \r\n
        profiles.append(
            [
                n + 1,
                learner.user_id,
                learner.full_name,
                "vi",
                "Hà Nội\tVN",
                "",
                None,
                GENDERS[n % 4] or None,
                address,
                1980 + n % 25,
                EDUCATION[n % 8],
                f"học tốt{RAW_CR}hơn" if n % 7 == 0 else None,
                COUNTRIES[n % 6],
                None,
                bio,
            ]
        )
        enrollments.append(
            [
                n + 1,
                learner.user_id,
                slash_id if n % 7 == 3 else course.course_id,
                learner.enrolled_at.replace(microsecond=0),
                int(learner.is_active),
                learner.mode,
            ]
        )
        grade = learner.grade_percentage
        if grade is not None:
            passed = grade >= PASS_THRESHOLD
            modified = (learner.last_activity or learner.enrolled_at).replace(microsecond=0)
            grades.append(
                [
                    n + 1,
                    learner.user_id,
                    course.course_id,
                    None,
                    "v1",
                    "policy",
                    round(grade / 100, 4),
                    learner.letter_grade if passed else "",
                    modified if passed else None,
                    learner.enrolled_at.replace(microsecond=0),
                    modified,
                ]
            )
            if index % 4 != 3:  # the fourth course has not issued certificates: header only
                certificates.append(
                    [
                        n + 1,
                        learner.user_id,
                        "",
                        round(grade / 100, 4),
                        course.course_id,
                        "",
                        0,
                        "downloadable" if passed else "notpassing",
                        "",
                        "",
                        learner.full_name,
                        modified,
                        modified,
                        "",
                        learner.mode,
                    ]
                )
        for c in range(_touched_chapters(learner)):
            when = learner.enrolled_at.replace(microsecond=0)
            problem = (
                f"i4x://{org}/{number}/problem/p{c}"
                if index % 3 == 2
                else _block(course, "problem", f"p{c}")
            )
            for kind, block, state, score in (
                ("chapter", _block(course, "chapter", f"c{c}"), {"position": 1}, None),
                ("problem", problem, {"attempts": rng.randint(1, 3), "seed": 1}, rng.randint(0, 1)),
            ):
                module_id += 1
                modules.append(
                    [
                        module_id,
                        kind,
                        block,
                        learner.user_id,
                        json.dumps(state),
                        score,
                        None if score is None else 1,
                        "na",
                        course.course_id,
                        when,
                        when,
                    ]
                )
        for t in range(min(learner.threads_count, 3)):
            posts.append(
                {
                    "_id": {"$oid": f"{learner.user_id:012x}{t:012x}"},
                    "_type": "CommentThread",
                    "course_id": course.course_id,
                    "author_id": str(learner.user_id),
                    "author_username": learner.username,
                    "title": "Câu hỏi",
                    "body": "Xin chào\r\nmọi người",
                    "created_at": {"$date": f"{learner.enrolled_at:%Y-%m-%dT%H:%M:%S}.000Z"},
                    "votes": {"up_count": t, "down_count": 0, "point": t},
                }
            )
    tables = {
        "auth_user": (users, False),
        "auth_userprofile": (profiles, True),
        "student_courseenrollment": (enrollments, False),
        "certificates_generatedcertificate": (certificates, False),
        "grades_persistentcoursegrade": (grades, False),
        "courseware_studentmodule": (modules, False),
        "user_id_map": ([], False),  # header only
    }
    files = {
        f"{prefix}-{table}{suffix}": _tsv(HEADERS[table].split(), rows, raw_cr)
        for table, (rows, raw_cr) in tables.items()
    }
    structure_json = json.dumps(structure(course), ensure_ascii=False).encode()
    files[f"{prefix}-course_structure-{site}.json"] = b"\xef\xbb\xbf" + structure_json
    forum = "".join(json.dumps(p, ensure_ascii=False) + "\n" for p in posts)
    files[f"{prefix}-{site}.mongo"] = forum.encode()
    files[f"{org}-email_opt_in-{site}-analytics.csv"] = b"user_id,username,email,is_opted_in\n"
    return files


def write_research_packages(university: University, folder: Path) -> list[Path]:
    """One package per course in ``folder``, exported on the university's as-of date."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for index, course in enumerate(university.courses.values()):
        _, number, _ = _parts(course)
        name = f"SANDBOX-{number}-{university.today.isoformat()}"
        files = course_files(course, index)
        kind = index % 3
        if kind == 0:
            path = folder / name
            path.mkdir(exist_ok=True)
            for file_name, data in files.items():
                (path / file_name).write_bytes(data)
        elif kind == 1:
            path = folder / f"{name}.zip"
            with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
                for file_name, data in files.items():
                    archive.writestr(f"{name}/{file_name}", data)
        else:
            path = folder / f"{name}.tar.gz"
            with tarfile.open(path, "w:gz") as archive:
                for file_name, data in files.items():
                    info = tarfile.TarInfo(f"{name}/{file_name}")
                    info.size = len(data)
                    archive.addfile(info, io.BytesIO(data))
        written.append(path)
    return written
