#!/usr/bin/env python3
"""Checks the running lab against lab/state/seed.json, through the environment lab/up prints.

    eval "$(lab/up)" && lab/state/venv/bin/python lab/verify.py

Every client here is built from the environment alone (no endpoint_url), so this also checks
that each service's AWS_ENDPOINT_URL_* reaches the emulator seed.json says serves it.
CloudWatch is spoken over Smithy RPC v2 CBOR, as qpconsole speaks it. Exits 1 on a mismatch.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
import urllib.request

import botocore.model

botocore.model.PRIORITY_ORDERED_SUPPORTED_PROTOCOLS = ("smithy-rpc-v2-cbor",) + tuple(
    p for p in botocore.model.PRIORITY_ORDERED_SUPPORTED_PROTOCOLS if p != "smithy-rpc-v2-cbor"
)
import boto3

failures: list[str] = []


def check(what: str, got, want) -> None:
    if got != want:
        failures.append(f"{what}: got {got!r}, want {want!r}")
        print(f"FAIL {what}: got {got!r}, want {want!r}")
    else:
        print(f"ok   {what}")


def main() -> int:
    state = os.environ.get("QPCONSOLE_LAB_STATE")
    if not state or "AWS_ENDPOINT_URL" not in os.environ:
        print('run: eval "$(lab/up)" first', file=sys.stderr)
        return 2
    with open(os.path.join(state, "seed.json")) as f:
        seed = json.load(f)

    sent: dict[str, str] = {}

    def client(service: str):
        c = boto3.client(service)
        c.meta.events.register(
            "before-send",
            lambda request, **_: sent.__setitem__(service, request.url),
        )
        return c

    rds, ec2, asg = client("rds"), client("ec2"), client("autoscaling")
    elb, waf, sts = client("elbv2"), client("wafv2"), client("sts")
    cw, bk, sm = client("cloudwatch"), client("backup"), client("secretsmanager")
    logs = client("logs")

    # Aurora
    a = seed["aurora"]
    c = rds.describe_db_clusters(DBClusterIdentifier=a["cluster_id"])["DBClusters"][0]
    check("aurora endpoint", c["Endpoint"], a["endpoint"])
    check("aurora reader endpoint", c["ReaderEndpoint"], a["reader_endpoint"])
    check(
        "aurora roles",
        {m["DBInstanceIdentifier"]: m["IsClusterWriter"] for m in c["DBClusterMembers"]},
        {m["id"]: m["role"] == "writer" for m in a["members"]},
    )
    insts = rds.describe_db_instances(
        Filters=[{"Name": "db-cluster-id", "Values": [a["cluster_id"]]}]
    )["DBInstances"]
    check(
        "aurora members az/class",
        {i["DBInstanceIdentifier"]: (i["AvailabilityZone"], i["DBInstanceClass"]) for i in insts},
        {m["id"]: (m["az"], m["class"]) for m in a["members"]},
    )

    # Phoenix
    p = seed["phoenix"]
    g = asg.describe_auto_scaling_groups(AutoScalingGroupNames=[p["asg"]])["AutoScalingGroups"][0]
    check("asg size", (g["MinSize"], g["DesiredCapacity"], g["MaxSize"]), (2, 2, 4))
    check(
        "asg instances",
        {i["InstanceId"]: i["AvailabilityZone"] for i in g["Instances"]},
        {i["id"]: i["az"] for i in p["instances"]},
    )
    check("asg target groups", g["TargetGroupARNs"], [p["target_group"]["arn"]])
    res = ec2.describe_instances(
        Filters=[
            {"Name": "tag:Workload", "Values": ["phoenix"]},
            {"Name": "instance-state-name", "Values": ["running"]},
        ]
    )["Reservations"]
    check(
        "phoenix by tag",
        sorted(
            (
                i["InstanceId"],
                i["Placement"]["AvailabilityZone"],
                i["InstanceType"],
                i["PrivateIpAddress"],
            )
            for r in res
            for i in r["Instances"]
        ),
        sorted((i["id"], i["az"], i["type"], i["private_ip"]) for i in p["instances"]),
    )
    tg = elb.describe_target_groups(Names=[p["target_group"]["name"]])["TargetGroups"][0]
    check("target group arn", tg["TargetGroupArn"], p["target_group"]["arn"])
    th = elb.describe_target_health(TargetGroupArn=tg["TargetGroupArn"])["TargetHealthDescriptions"]
    check(
        "target health",
        {h["Target"]["Id"]: h["TargetHealth"]["State"] for h in th},
        p["target_health"],
    )

    # WAF
    w = seed["waf"]
    acls = waf.list_web_acls(Scope="REGIONAL")["WebACLs"]
    check(
        "web acls",
        [(x["Name"], x["Id"], x["ARN"]) for x in acls],
        [(w["web_acl"]["name"], w["web_acl"]["id"], w["web_acl"]["arn"])],
    )
    acl = waf.get_web_acl(Name=w["web_acl"]["name"], Scope="REGIONAL", Id=w["web_acl"]["id"])[
        "WebACL"
    ]
    check(
        "waf rules",
        [r["Name"] for r in sorted(acl["Rules"], key=lambda r: r["Priority"])],
        w["rule_names"],
    )

    # VPN
    v = seed["vpn"]
    conns = ec2.describe_vpn_connections()["VpnConnections"]
    check(
        "vpn connections",
        [(x["VpnConnectionId"], x["State"]) for x in conns],
        [(v["connection_id"], "available")],
    )
    check(
        "vpn name tag",
        {t["Key"]: t["Value"] for t in conns[0].get("Tags", [])}.get("Name"),
        v["name"],
    )

    # Metrics: every series, over the seeded window
    win = seed["metrics"]["window"]
    start = dt.datetime.strptime(win["start"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.timezone.utc)
    end = dt.datetime.strptime(win["end"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.timezone.utc)
    series = seed["metrics"]["series"]
    queries = [
        {
            "Id": f"q{n}",
            "MetricStat": {
                "Metric": {
                    "Namespace": s["namespace"],
                    "MetricName": s["metric"],
                    "Dimensions": [{"Name": k, "Value": val} for k, val in s["dimensions"].items()],
                },
                "Period": 60,
                "Stat": "Sum",
            },
        }
        for n, s in enumerate(series)
    ]
    results = {}
    for k in range(0, len(queries), 100):
        for r in cw.get_metric_data(
            MetricDataQueries=queries[k : k + 100], StartTime=start, EndTime=end
        )["MetricDataResults"]:
            results[r["Id"]] = r
    wrong = [
        (s["namespace"], s["metric"], s["dimensions"], sum(results[f"q{n}"]["Values"]), s["sum"])
        for n, s in enumerate(series)
        if len(results[f"q{n}"]["Values"]) != s["count"]
        or abs(sum(results[f"q{n}"]["Values"]) - s["sum"]) > 1e-6 * max(1.0, abs(s["sum"]))
    ]
    check(f"{len(series)} metric series sums over the window", wrong, [])
    blocked = {
        s["dimensions"]["Rule"]: int(sum(results[f"q{n}"]["Values"]))
        for n, s in enumerate(series)
        if s["namespace"] == "AWS/WAFV2" and s["metric"] == "BlockedRequests"
    }
    check("waf blocked per rule", blocked, w["metrics"]["blocked_last_hour"])

    # Backup
    b = seed["backup"]
    plans = bk.list_backup_plans()["BackupPlansList"]
    check(
        "backup plans",
        [(x["BackupPlanName"], x["BackupPlanId"]) for x in plans],
        [(b["plan"]["name"], b["plan"]["id"])],
    )
    rule = bk.get_backup_plan(BackupPlanId=b["plan"]["id"])["BackupPlan"]["Rules"][0]
    check(
        "backup schedule",
        (rule["ScheduleExpression"], rule["Lifecycle"]["DeleteAfterDays"]),
        (b["plan"]["schedule"], b["plan"]["delete_after_days"]),
    )
    jobs = bk.list_backup_jobs()["BackupJobs"]
    check(
        "backup jobs",
        [(j["BackupJobId"], j["State"], j["ResourceArn"]) for j in jobs],
        [(j["id"], j["state"], j["resource_arn"]) for j in b["jobs"]],
    )

    # STS
    who = sts.get_caller_identity()
    check("sts account", who["Account"], seed["sts"]["account"])

    # Secrets Manager: the lab database's application user, with the password lab/up exports.
    secret = sm.get_secret_value(SecretId=seed["db_secret_name"])
    check("db secret arn", secret["ARN"], seed["db_secret_arn"])
    check(
        "db secret",
        json.loads(secret["SecretString"]),
        {"username": "qpconsole", "password": os.environ.get("QPCONSOLE_LAB_DB_PASSWORD")},
    )

    # Logs: every seeded event is in its group's stream (lab/logs may have added more), the
    # cluster's exports, the instance log files, and the fault proxy in front of moto.
    lg = seed["logs"]
    check("aurora log exports", c.get("EnabledCloudwatchLogsExports"), ["error", "slowquery"])
    for name, g in lg["groups"].items():
        got: dict[str, set] = {}
        kw: dict = {"logGroupName": name, "interleaved": True}
        while True:
            r = logs.filter_log_events(**kw)
            for e in r["events"]:
                got.setdefault(e["logStreamName"], set()).add((e["timestamp"], e["message"]))
            if not r.get("nextToken"):
                break
            kw["nextToken"] = r["nextToken"]
        check(
            f"log group {name}: seeded events missing per stream",
            {
                st: len(
                    {(m["timestamp"], m["message"]) for m in v["messages"]} - got.get(st, set())
                )
                for st, v in g["streams"].items()
            },
            {st: 0 for st in g["streams"]},
        )
    for iid, f in lg["instance_files"]["files"].items():
        try:
            with open(f["path"]) as fh:
                n = sum(1 for line in fh if f"instance={iid}" in line)
        except OSError:
            n = None
        check(f"instance log file of {iid} has its seeded lines", (n or 0) >= f["lines"], True)
    port = os.environ.get("QPCONSOLE_LAB_FAULT_PORT", "27103")
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/__fault/stats", timeout=5) as r:
        check("fault proxy stats", sorted(json.load(r)), ["groups", "rules", "targets"])

    # Routing: each service went where seed.json says.
    names = {"elbv2": "elbv2", "autoscaling": "autoscaling"}
    for service, url in sent.items():
        want = seed["endpoints"][names.get(service, service)]
        check(f"{service} routed to", url.startswith(want + "/"), True)

    print(f"\n{len(failures)} failed" if failures else "\nall checks passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
