"""Alert rules as code: Grafana unified alerting, one InfluxQL query, a reduce and a threshold.

| rule | fires when | no data |
|---|---|---|
| container_full | a container's last `full`/`overfull` transition left it active | OK |
| container_fire | a container's last `fire` transition left it active | OK |
| containers_offline | a container's last `offline` transition left it active | OK |
| scale_silent | no capture on the site in the last hour | fires |
| ingest_lag | a worker's lag passed one minute in the last 10 minutes | fires (no stats) |
| dead_letters | a worker dead-lettered messages in the last 15 minutes | OK |

The container rules follow the fill tracker's own alerts (`container_alert`), so Grafana and
the dispatcher page never disagree on whether a container is full. "Scale silent" counts only
between 09:00 and 17:00 Asia/Bishkek: the notification policy mutes it outside those hours
(the working day starts at 08:00, and the first hour fills the one-hour window).

Each rule is built with the SDK's alerting builders in the HTTP API's form (`rules`), which
`landfill dashboards push` sends; `rules_file` is the same rules in the file provisioning form.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from grafana_foundation_sdk.builders import alerting, expr
from grafana_foundation_sdk.models.alerting import RelativeTimeRange

from dashboards.boards import OPEN_SINCE
from dashboards.influxql import DATASOURCE_UID, Target, checked, to_json
from dashboards.texts import description, title
from landfill.language import Language
from landfill.measurements import CONTAINER_ALERT, INGEST_STATS, SCALE_CAPTURE, Measurement

__all__ = [
    "FOLDER_UID",
    "MUTE_OUTSIDE_WORK",
    "RULES",
    "RULE_GROUP",
    "RuleSpec",
    "policies_file",
    "rules",
    "rules_file",
]

FOLDER_UID = "landfill"
RULE_GROUP = "landfill"
INTERVAL = "1m"
EXPRESSIONS = "__expr__"
MUTE_OUTSIDE_WORK = "outside-working-hours"
WORKING_HOURS = ("09:00", "17:00")  # when "scale silent" is sent (see the module docstring)
DEFAULT_RECEIVER = "grafana-default-email"  # every Grafana has it; see the contact point example


@dataclass(frozen=True)
class RuleSpec:
    """One alert rule: query A over the last ``seconds``, reduce B, threshold C."""

    key: str
    measurement: Measurement
    statement: str
    seconds: int
    reducer: Literal["last", "max", "sum", "count"]
    op: Literal["gt", "lt"]
    threshold: float
    no_data: Literal["OK", "Alerting", "NoData"]
    severity: Literal["info", "warning", "critical"]
    pending: str = "0s"

    def __post_init__(self) -> None:
        checked(self.measurement, self.statement)

    @property
    def uid(self) -> str:
        """The rule's stable uid."""
        return f"landfill-{self.key.replace('_', '-')}"


def _open(kinds: str) -> str:
    return (
        'SELECT "since" FROM (SELECT last("active") AS "active", last("since") AS "since" '
        f'FROM "container_alert" WHERE "kind" =~ /^({kinds})$/ AND time > now() - {OPEN_SINCE} '
        'GROUP BY "site", "container", "kind") WHERE "active" = true '
        'GROUP BY "site", "container", "kind"'
    )


RULES = (
    RuleSpec("container_full", CONTAINER_ALERT, _open("full|overfull"), 600, "last", "gt", 0,
             "OK", "warning"),
    RuleSpec("container_fire", CONTAINER_ALERT, _open("fire"), 600, "last", "gt", 0, "OK",
             "critical"),
    RuleSpec("containers_offline", CONTAINER_ALERT, _open("offline"), 600, "last", "gt", 0, "OK",
             "warning"),
    RuleSpec("scale_silent", SCALE_CAPTURE,
             'SELECT count("weight_kg") FROM "scale_capture" WHERE $timeFilter GROUP BY "site"',
             3600, "last", "lt", 1, "Alerting", "warning", pending="5m"),
    RuleSpec("ingest_lag", INGEST_STATS,
             'SELECT max("lag_ms_max") FROM "ingest_stats" WHERE $timeFilter '
             'GROUP BY "site", "worker"', 600, "max", "gt", 60_000, "Alerting", "critical",
             pending="2m"),
    RuleSpec("dead_letters", INGEST_STATS,
             'SELECT non_negative_difference(max("dead_letters")) FROM "ingest_stats" '
             'WHERE $timeFilter GROUP BY time(1m), "site", "worker" fill(none)', 900, "sum",
             "gt", 0, "OK", "warning"),
)  # fmt: skip


def _rule(spec: RuleSpec, language: Language) -> alerting.Rule:
    query = (
        alerting.Query("A")
        .datasource_uid(DATASOURCE_UID)
        .relative_time_range(RelativeTimeRange(from_val=spec.seconds, to=0))
        .model(Target(spec.statement, "A"))
    )
    reduce = expr.TypeReduce().ref_id("B").expression("A").reducer(spec.reducer)
    evaluator = expr.ExprTypeThresholdConditionsEvaluator().type(spec.op).params([spec.threshold])
    threshold = (
        expr.TypeThreshold()
        .ref_id("C")
        .expression("B")
        .conditions([expr.ExprTypeThresholdConditions().evaluator(evaluator)])
    )
    return (
        alerting.Rule(title(f"rule_{spec.key}", language))
        .uid(spec.uid)
        .org_id(1)
        .folder_uid(FOLDER_UID)
        .rule_group(RULE_GROUP)
        .condition("C")
        .with_query(query)
        .with_query(alerting.Query("B").datasource_uid(EXPRESSIONS).model(reduce))
        .with_query(alerting.Query("C").datasource_uid(EXPRESSIONS).model(threshold))
        .no_data_state(spec.no_data)
        .exec_err_state("Error")
        .for_val(spec.pending)
        .labels({"rule": spec.key, "severity": spec.severity, "project": "landfill"})
        .annotations({"summary": description(f"rule_{spec.key}", language)})
    )


def rules(language: Language) -> list[dict[str, Any]]:
    """Every rule in the provisioning HTTP API's form (``/api/v1/provisioning/...``)."""
    return [to_json(_rule(spec, language).build()) for spec in RULES]


FILE_KEYS = ("uid", "title", "condition", "data", "noDataState", "execErrState", "for")


def rules_file(language: Language) -> dict[str, Any]:
    """Every rule as a Grafana alerting provisioning file (one group, in the landfill folder)."""
    body = [
        {**{k: r[k] for k in FILE_KEYS}, "labels": r["labels"], "annotations": r["annotations"]}
        for r in rules(language)
    ]
    group = {
        "orgId": 1,
        "name": RULE_GROUP,
        "folder": title("folder", language),
        "interval": INTERVAL,
        "rules": body,
    }
    return {"apiVersion": 1, "groups": [group]}


def policies_file(tz: str = "Asia/Bishkek") -> dict[str, Any]:
    """The notification policy tree: "scale silent" muted outside working hours."""
    start, end = WORKING_HOURS
    mute = {
        "orgId": 1,
        "name": MUTE_OUTSIDE_WORK,
        "time_intervals": [
            {
                "times": [
                    {"start_time": "00:00", "end_time": start},
                    {"start_time": end, "end_time": "24:00"},
                ],
                "location": tz,
            }
        ],
    }
    silent = {
        "receiver": DEFAULT_RECEIVER,
        "object_matchers": [["rule", "=", "scale_silent"]],
        "mute_time_intervals": [MUTE_OUTSIDE_WORK],
    }
    policy = {
        "orgId": 1,
        "receiver": DEFAULT_RECEIVER,
        "group_by": ["grafana_folder", "alertname", "site"],
        "routes": [silent],
    }
    return {"apiVersion": 1, "muteTimes": [mute], "policies": [policy]}
