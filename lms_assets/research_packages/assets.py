"""Research-package assets (seed 004): a course's package -> its tables, then person_course.

Partitions are course x export date (``partitions.course_daily``): a package is named
by its course and its export date, and its rows are those of that course on that
date, so re-loading a package replaces the same partition and a newer export of the
course lands as a new date. (``partitions.package_partitions`` would key rows by a
package name instead, which neither joins with the other sources' course x date
tables nor says which export of a course is the newer.)

All of a course's package tables are written in ONE transaction (one multi-asset),
so users, enrollments and modules never come from two different exports.
"""

from collections.abc import Iterator

import dagster as dg

from lms_assets import partitions, quality
from lms_assets.loading import load_per_course, write_scope
from lms_assets.partitions import Partition, scope_of
from lms_assets.research_packages import schema
from lms_assets.research_packages.checks import PERSON_COURSE_RULES, RULES
from lms_assets.research_packages.parsing import CourseReader
from lms_assets.research_packages.person_course import person_course_frame
from lms_assets.research_packages.resources import ResearchPackageFolderResource
from lms_assets.tables import publish
from lms_assets.warehouse import WarehouseResource

research_package_courses = dg.DynamicPartitionsDefinition(name="research_package_courses")
research_package_daily = partitions.course_daily(research_package_courses)
LOAD_ASSET = "research_package_tables"
PACKAGE_ASSET = {
    "partitions_def": research_package_daily,
    "backfill_policy": dg.BackfillPolicy.single_run(),
    "group_name": "research_packages",
    "pool": "warehouse",
}


@dg.multi_asset(
    name=LOAD_ASSET,
    specs=[
        dg.AssetSpec(table, description=schema.metadata.tables[table].comment, kinds={"sql"})
        for table in schema.PACKAGE_TABLES
    ],
    check_specs=[
        spec
        for table in schema.PACKAGE_TABLES
        for spec in quality.check_specs(table, RULES[table], blocking=True)
    ],
    **PACKAGE_ASSET,
)
def research_package_tables(
    context: dg.AssetExecutionContext,
    research_packages: ResearchPackageFolderResource,
    warehouse: WarehouseResource,
) -> Iterator[dg.MaterializeResult]:
    """Read each course's package (every table of it) and replace its partition at once.

    Records that cannot be read are kept in ``rejected_records`` with file, line and
    reason, and counted; usernames, names and forum authors are stored as pseudonyms.
    """
    pseudonymize = research_packages.pseudonymizer()

    def fetch(partition: Partition):
        package, prefix = research_packages.find(partition)
        context.log.info(f"{partition}: reading {package.path.name} ({prefix})")
        return CourseReader(package, prefix, partition, pseudonymize).read()

    report = load_per_course(context, scope_of(context), warehouse, LOAD_ASSET, fetch)
    for table in schema.PACKAGE_TABLES:
        yield publish(
            context,
            warehouse,
            report,
            table,
            RULES[table],
            extra={"pseudonyms": pseudonymize.mode},
        )


# person_course reads the course's tracking events of every day up to the export date.
TRACKING_UP_TO_THE_EXPORT = dg.AssetDep(
    "tracking_events",
    partition_mapping=dg.MultiPartitionMapping(
        {
            partitions.COURSE_DIMENSION: dg.DimensionPartitionMapping(
                partitions.COURSE_DIMENSION, dg.IdentityPartitionMapping()
            ),
            partitions.DATE_DIMENSION: dg.DimensionPartitionMapping(
                partitions.DATE_DIMENSION,
                dg.TimeWindowPartitionMapping(
                    start_offset=-(100 * 366), allow_nonexistent_upstream_partitions=True
                ),
            ),
        }
    ),
)


@dg.asset(
    deps=[*schema.PACKAGE_TABLES, TRACKING_UP_TO_THE_EXPORT],
    kinds={"sql", "pandas"},
    check_specs=quality.check_specs("person_course", PERSON_COURSE_RULES, blocking=False),
    **PACKAGE_ASSET,
)
def person_course(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    """One row per learner, course and export date, with edx2bigquery's definitions.

    Activity columns (nevents, ndays_act, nplay_video, first/last event) come from
    ``tracking_events`` up to the export date, joined on its stored ``username_hash``
    (RIPEMD160 of the log's username, keyed as the packages are); NULL for a course without
    tracking events. docs/person_course.md.
    """
    scope = scope_of(context)
    frame = person_course_frame(warehouse, scope)
    report = write_scope(warehouse, scope, {"person_course": frame}, asset_name="person_course")
    return publish(context, warehouse, report, "person_course", PERSON_COURSE_RULES)
