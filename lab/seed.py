#!/usr/bin/env python3
"""Seeds the QualityPost estate into the lab's emulators and writes lab/state/seed.json.

Run by lab/up with the lab's venv python (boto3). Both emulators keep state in memory only,
so a seed is tied to the emulator processes it was written into: `--if-needed` seeds only
when seed.json is missing, was written for other processes (pids or ports), or the state it
describes is gone from an emulator. A seed always starts by resetting both emulators, so the
result is the same every time except for the ids the emulators issue.

The lab database's application password (STATE/db-password, made by lab/up) is kept in moto's
Secrets Manager as `qualitypost/db/qpconsole`; that is checked, and put right, on every run,
seeded or not (seed.json `db_secret_arn`). Likewise the Phoenix instances' log files,
STATE/logs/<instance id>.log (seed.json `logs.instance_files`): written by a seed, and made
again on a reuse only when one is missing (a reuse keeps what lab/logs appended).

Nothing here talks to anything but the two emulators on 127.0.0.1. The access key is the
literal "testing"; the customer gateway and tunnel addresses are documentation-range strings
that nothing ever contacts.

Usage: seed.py [--if-needed] [--state DIR]
Environment (set by lab/up): QPCONSOLE_LAB_MOTO_PORT, QPCONSOLE_LAB_MINISTACK_PORT,
QPCONSOLE_LAB_MOTO_PID, QPCONSOLE_LAB_MINISTACK_PID.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import shlex
import sys
import time
import urllib.request

# Never read the user's AWS files or reach for real credentials or the metadata endpoint.
os.environ.update(
    AWS_ACCESS_KEY_ID="testing",
    AWS_SECRET_ACCESS_KEY="testing",
    AWS_DEFAULT_REGION="us-east-1",
    AWS_CONFIG_FILE="/dev/null",
    AWS_SHARED_CREDENTIALS_FILE="/dev/null",
    AWS_EC2_METADATA_DISABLED="true",
)
for _var in ("AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
    os.environ.pop(_var, None)

import boto3
import botocore.config
import botocore.exceptions
import botocore.model

# lab/logs.py: the log lines' formats, shared with lab/logs. No lab/__pycache__ in the tree.
sys.dont_write_bytecode = True
import logs as lablogs  # noqa: E402

# qpconsole's aws-sdk-cloudwatch speaks only Smithy RPC v2 CBOR, while boto3 prefers JSON for
# CloudWatch. Prefer CBOR here so the seed writes and reads metrics the way qpconsole does and
# the call probe sees what qpconsole sees. (Only CloudWatch, of the services seeded, offers it.)
botocore.model.PRIORITY_ORDERED_SUPPORTED_PROTOCOLS = ("smithy-rpc-v2-cbor",) + tuple(
    p for p in botocore.model.PRIORITY_ORDERED_SUPPORTED_PROTOCOLS if p != "smithy-rpc-v2-cbor"
)

# The HTTP status of the last response, for errors botocore cannot parse (an HTML 500 page).
_last_status: dict[str, int | None] = {"status": None}


def _remember_status(response_dict=None, **_kw) -> None:
    _last_status["status"] = (response_dict or {}).get("status_code")


SEED_FORMAT = 5  # 3: seed.json has "logs"; 4: "dms"; 5: "security"
RANDOM_SEED = 20261125
REGION = "us-east-1"
ACCOUNT = "123456789012"  # moto's default; ministack is started with the same
RDS_INSTANCE = "fesa-db"
CLUSTER = "qualitypost-aurora"
WRITER = "qualitypost-aurora-1"
READER = "qualitypost-aurora-2"
DB_CLASS = "db.r6g.large"
ENGINE = "aurora-mysql"
ENGINE_VERSION = "8.0.mysql_aurora.3.05.2"
VPC_CIDR = "10.20.0.0/16"
SUBNETS = {"us-east-1a": "10.20.1.0/24", "us-east-1b": "10.20.2.0/24"}
# The public layer's subnets (the load balancer, the bastion), the only ones whose route table
# sends 0.0.0.0/0 to the internet gateway; the private ones above keep the VPC's main table.
PUBLIC_SUBNETS = {"us-east-1a": "10.20.101.0/24", "us-east-1b": "10.20.102.0/24"}
PHOENIX = "phoenix"
PHOENIX_TYPE = "t3.large"
PHOENIX_NAMES = {"us-east-1a": "phoenix-a", "us-east-1b": "phoenix-b"}
WEB_ACL = "qualitypost-waf"
MANAGED_RULES = [
    "AWSManagedRulesCommonRuleSet",
    "AWSManagedRulesKnownBadInputsRuleSet",
    "AWSManagedRulesSQLiRuleSet",
]
RATE_RULE = "RateLimitPerIP"
RATE_LIMIT = 2000
# The three layers' security groups: the database takes 3306 from the application and the
# bastion, the application 80 from the load balancer and 22 from the bastion, the load balancer
# 80 and 443 from the world, the bastion 22 from the office (TEST-NET-2, never contacted).
DB_SG = "qualitypost-db"
APP_SG = "phoenix-app"
ALB_SG = "phoenix-alb"
BASTION_SG = "qualitypost-bastion"
OFFICE_CIDR = "198.51.100.0/24"
BASTION = "qualitypost-bastion"
BASTION_TYPE = "t3.micro"
VPN_NAME = "qualitypost-office"
CUSTOMER_GATEWAY_IP = "203.0.113.10"  # TEST-NET-3: a string, never contacted
CUSTOMER_GATEWAY_ASN = 65000
VPN_STATIC_ROUTES = ["10.0.0.0/16", "10.1.0.0/16"]
# moto reports no tunnels (no Options.TunnelOptions, no VgwTelemetry), so the tunnels' outside
# addresses are chosen here (TEST-NET-2, never contacted) and used as the TunnelIpAddress
# dimension of the AWS/VPN metrics. Tunnel 2 is down for the whole hour.
TUNNELS = [("198.51.100.21", "UP"), ("198.51.100.22", "DOWN")]
BACKUP_VAULT = "qualitypost-vault"
BACKUP_PLAN = "daily-35d"
BACKUP_SCHEDULE = "cron(0 5 ? * * *)"
BACKUP_DAYS = 35
BACKUP_ROLE = f"arn:aws:iam::{ACCOUNT}:role/service-role/AWSBackupDefaultServiceRole"
DB_SECRET = "qualitypost/db/qpconsole"
DB_USER = "qpconsole"
MINUTES = 60
SPIKE_MINUTES = 5
SPIKE_FACTOR = 10
# Phoenix's load balancer: requests a minute, the share answered 5xx by the targets, and the
# response times each minute as a distribution (seconds, how many), whose p50 and p99 (by
# CloudWatch's nearest-rank interpolation) are ELB_P50_MS and ELB_P99_MS.
ELB_REQUESTS = 2000
ELB_5XX_PCT = 0.5
ELB_RESPONSE = ((0.040, 0.060, 0.250), (1500, 470, 30))
ELB_P50_MS = 40.0
ELB_P99_MS = 250.0
# Logs: the Phoenix application's group (lab/logs.py), the cluster's exports by the RDS
# convention /aws/rds/cluster/<cluster>/<type> (one stream per member, named by it), and one
# file per Phoenix instance in STATE/logs. All of it within the 10 minutes before the seed.
LOG_WINDOW_MS = 10 * 60 * 1000
PHOENIX_LOG_EVENTS = 20  # per instance stream: 2 of them WARN, 1 ERROR
INSTANCE_LOG_LINES = 10  # per instance file: 1 of them WARN
AURORA_LOG_EXPORTS = ["error", "slowquery"]

GIB = 1024**3


def log(msg: str) -> None:
    print(f"seed: {msg}", file=sys.stderr, flush=True)


class Lab:
    def __init__(self, state: str) -> None:
        self.state = state
        self.moto_port = int(os.environ.get("QPCONSOLE_LAB_MOTO_PORT", "27101"))
        self.ministack_port = int(os.environ.get("QPCONSOLE_LAB_MINISTACK_PORT", "27102"))
        self.moto = f"http://127.0.0.1:{self.moto_port}"
        self.ministack = f"http://127.0.0.1:{self.ministack_port}"
        self.pids = {
            "moto": _int_or_none(os.environ.get("QPCONSOLE_LAB_MOTO_PID")),
            "ministack": _int_or_none(os.environ.get("QPCONSOLE_LAB_MINISTACK_PID")),
        }
        # Which emulator serves which service (what lab/up exports).
        self.routes = {
            "rds": self.moto,
            "ec2": self.moto,
            "autoscaling": self.moto,
            "elbv2": self.moto,
            "wafv2": self.moto,
            "sts": self.moto,
            "secretsmanager": self.moto,
            "dms": self.moto,
            "cloudwatch": self.ministack,
            "backup": self.ministack,
            # Not routed by a variable of its own: AWS_ENDPOINT_URL, the catch-all, is moto.
            "logs": self.moto,
        }

    def client(self, service: str, endpoint: str | None = None, retries: int = 3):
        c = boto3.client(
            service,
            region_name=REGION,
            endpoint_url=endpoint or self.routes[service],
            config=botocore.config.Config(
                retries={"max_attempts": retries, "mode": "standard"},
                connect_timeout=3,
                read_timeout=30,
            ),
        )
        c.meta.events.register("before-parse", _remember_status)
        return c

    def post(self, url: str) -> None:
        req = urllib.request.Request(url, data=b"", method="POST")
        with urllib.request.urlopen(req, timeout=30) as r:
            r.read()


def _int_or_none(v: str | None) -> int | None:
    try:
        return int(v) if v else None
    except ValueError:
        return None


def _tags(**kv: str) -> list[dict]:
    return [{"Key": k, "Value": v} for k, v in kv.items()]


def _iso(t: dt.datetime) -> str:
    return t.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _err(e: Exception) -> str:
    """A short account of a failed call: the AWS error code and HTTP status, or the status."""
    if isinstance(e, botocore.exceptions.ClientError):
        code = e.response.get("Error", {}).get("Code", "")
        status = e.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if code and not code.isdigit():
            return f"{code} (HTTP {status})"
        return f"HTTP {status or code}"
    status = _last_status["status"]
    if status and status >= 300:
        return f"HTTP {status}"
    return f"{type(e).__name__}: {str(e).splitlines()[0][:120]}"


# --------------------------------------------------------------------------------------------
# Seeding, one part of the estate at a time.


def seed_network(lab: Lab, out: dict) -> dict:
    ec2 = lab.client("ec2")
    vpc = ec2.create_vpc(
        CidrBlock=VPC_CIDR,
        TagSpecifications=[{"ResourceType": "vpc", "Tags": _tags(Name="qualitypost")}],
    )["Vpc"]["VpcId"]
    subnets = {}
    for az, cidr in SUBNETS.items():
        s = ec2.create_subnet(
            VpcId=vpc,
            CidrBlock=cidr,
            AvailabilityZone=az,
            TagSpecifications=[
                {"ResourceType": "subnet", "Tags": _tags(Name=f"qualitypost-{az[-1]}")}
            ],
        )["Subnet"]
        subnets[az] = {"id": s["SubnetId"], "cidr": cidr}
    igw = ec2.create_internet_gateway(
        TagSpecifications=[
            {"ResourceType": "internet-gateway", "Tags": _tags(Name="qualitypost")}
        ]
    )["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    table = ec2.create_route_table(
        VpcId=vpc,
        TagSpecifications=[
            {"ResourceType": "route-table", "Tags": _tags(Name="qualitypost-public")}
        ],
    )["RouteTable"]["RouteTableId"]
    ec2.create_route(RouteTableId=table, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
    public = {}
    for az, cidr in PUBLIC_SUBNETS.items():
        s = ec2.create_subnet(
            VpcId=vpc,
            CidrBlock=cidr,
            AvailabilityZone=az,
            TagSpecifications=[
                {"ResourceType": "subnet", "Tags": _tags(Name=f"qualitypost-public-{az[-1]}")}
            ],
        )["Subnet"]
        ec2.associate_route_table(RouteTableId=table, SubnetId=s["SubnetId"])
        public[az] = {"id": s["SubnetId"], "cidr": cidr}
    out["vpc"] = {
        "id": vpc,
        "cidr": VPC_CIDR,
        "subnets": subnets,
        "public_subnets": public,
        "internet_gateway": igw,
        "public_route_table": table,
    }
    return out["vpc"]


def seed_security_groups(lab: Lab, out: dict, net: dict) -> dict:
    """The three layers' groups and their ingress, nothing else open (see DB_SG ... above)."""
    ec2 = lab.client("ec2")
    ids = {
        name: ec2.create_security_group(GroupName=name, Description=what, VpcId=net["id"])[
            "GroupId"
        ]
        for name, what in (
            (DB_SG, "QualityPost Aurora"),
            (APP_SG, "Phoenix instances"),
            (ALB_SG, "Phoenix ALB"),
            (BASTION_SG, "QualityPost bastion"),
        )
    }

    def tcp(port: int, *, groups=(), cidrs=()) -> dict:
        return {
            "IpProtocol": "tcp",
            "FromPort": port,
            "ToPort": port,
            "UserIdGroupPairs": [{"GroupId": ids[g]} for g in groups],
            "IpRanges": [{"CidrIp": c} for c in cidrs],
        }

    ingress = {
        DB_SG: [tcp(3306, groups=(APP_SG, BASTION_SG))],
        APP_SG: [tcp(80, groups=(ALB_SG,)), tcp(22, groups=(BASTION_SG,))],
        ALB_SG: [tcp(80, cidrs=("0.0.0.0/0",)), tcp(443, cidrs=("0.0.0.0/0",))],
        BASTION_SG: [tcp(22, cidrs=(OFFICE_CIDR,))],
    }
    for name, permissions in ingress.items():
        ec2.authorize_security_group_ingress(GroupId=ids[name], IpPermissions=permissions)
    out["security"] = {"groups": ids, "office_cidrs": [OFFICE_CIDR]}
    return ids


def seed_aurora(lab: Lab, out: dict, net: dict, groups: dict) -> None:
    rds = lab.client("rds")
    rds.create_db_subnet_group(
        DBSubnetGroupName=CLUSTER,
        DBSubnetGroupDescription="QualityPost Aurora",
        SubnetIds=[s["id"] for s in net["subnets"].values()],
    )
    rds.create_db_cluster(
        DBClusterIdentifier=CLUSTER,
        Engine=ENGINE,
        EngineVersion=ENGINE_VERSION,
        MasterUsername="admin",
        MasterUserPassword="testing-not-a-secret",
        DBSubnetGroupName=CLUSTER,
        AvailabilityZones=list(SUBNETS),
        VpcSecurityGroupIds=[groups[DB_SG]],
        StorageEncrypted=True,
        BackupRetentionPeriod=7,
        # What makes RDS publish the logs seed_logs writes (DescribeDBClusters
        # EnabledCloudwatchLogsExports): the console's `aurora = "auto"` reads it.
        EnableCloudwatchLogsExports=AURORA_LOG_EXPORTS,
        Tags=_tags(Estate="qualitypost"),
    )
    # The first instance created in a cluster becomes its writer.
    for ident, az in ((WRITER, "us-east-1a"), (READER, "us-east-1b")):
        rds.create_db_instance(
            DBInstanceIdentifier=ident,
            DBClusterIdentifier=CLUSTER,
            Engine=ENGINE,
            DBInstanceClass=DB_CLASS,
            AvailabilityZone=az,
            # What AWS reports of every Aurora member anyway; moto only when told.
            DBSubnetGroupName=CLUSTER,
            PubliclyAccessible=False,
            Tags=_tags(Estate="qualitypost"),
        )
    cluster = rds.describe_db_clusters(DBClusterIdentifier=CLUSTER)["DBClusters"][0]
    instances = {
        i["DBInstanceIdentifier"]: i
        for i in rds.describe_db_instances(
            Filters=[{"Name": "db-cluster-id", "Values": [CLUSTER]}]
        )["DBInstances"]
    }
    members = []
    for m in cluster["DBClusterMembers"]:
        inst = instances[m["DBInstanceIdentifier"]]
        members.append(
            {
                "id": m["DBInstanceIdentifier"],
                "role": "writer" if m["IsClusterWriter"] else "reader",
                "is_cluster_writer": m["IsClusterWriter"],
                "az": inst.get("AvailabilityZone"),
                "class": inst["DBInstanceClass"],
                "arn": inst["DBInstanceArn"],
                "endpoint": inst.get("Endpoint", {}).get("Address"),
                "status": inst.get("DBInstanceStatus"),
            }
        )
    members.sort(key=lambda m: m["id"])
    roles = {m["id"]: m["role"] for m in members}
    azs = {m["id"]: m["az"] for m in members}
    if roles != {WRITER: "writer", READER: "reader"}:
        raise SystemExit(f"seed: unexpected cluster roles {roles}")
    if azs != {WRITER: "us-east-1a", READER: "us-east-1b"}:
        raise SystemExit(f"seed: unexpected member AZs {azs}")
    out["aurora"] = {
        "cluster_id": CLUSTER,
        "arn": cluster["DBClusterArn"],
        "engine": cluster["Engine"],
        "engine_version": cluster["EngineVersion"],
        "status": cluster["Status"],
        "endpoint": cluster.get("Endpoint"),
        "reader_endpoint": cluster.get("ReaderEndpoint"),
        "port": cluster.get("Port"),
        "multi_az": cluster.get("MultiAZ"),
        "writer": WRITER,
        "reader": READER,
        "members": members,
        "log_exports": cluster.get("EnabledCloudwatchLogsExports", []),
    }


def seed_rds_instance(lab: Lab, out: dict) -> None:
    """FESA's shape: one RDS MySQL instance, Multi-AZ, instead of an Aurora cluster."""
    rds = lab.client("rds")
    rds.create_db_instance(
        DBInstanceIdentifier=RDS_INSTANCE,
        Engine="mysql",
        EngineVersion="8.0.39",
        DBInstanceClass="db.r6g.large",
        AllocatedStorage=100,
        MultiAZ=True,
        AvailabilityZone="us-east-1a",
        MasterUsername="admin",
        MasterUserPassword="testing-not-a-secret",
        Tags=_tags(Estate="fesa"),
    )
    i = rds.describe_db_instances(DBInstanceIdentifier=RDS_INSTANCE)["DBInstances"][0]
    if not i.get("MultiAZ"):
        raise SystemExit(f"seed: {RDS_INSTANCE} is not Multi-AZ: {i}")
    out["rds_instance"] = {
        "id": RDS_INSTANCE,
        "engine": i["Engine"],
        "class": i["DBInstanceClass"],
        "az": i.get("AvailabilityZone"),
        "multi_az": i.get("MultiAZ"),
        "endpoint": i.get("Endpoint", {}).get("Address"),
    }


def _root_volume(ec2, ami: str) -> list[dict]:
    """The image's root device as an encrypted volume (moto ignores EBS encryption by
    default, and a launch template's block devices, so every launch says it)."""
    root = ec2.describe_images(ImageIds=[ami])["Images"][0]["RootDeviceName"]
    return [{"DeviceName": root, "Ebs": {"Encrypted": True, "VolumeSize": 8}}]


# IMDSv2 only. moto keeps it from RunInstances, not from a launch template.
METADATA = {"HttpTokens": "required", "HttpEndpoint": "enabled"}


def seed_phoenix(lab: Lab, out: dict, net: dict, groups: dict) -> None:
    ec2 = lab.client("ec2")
    asg = lab.client("autoscaling")
    elb = lab.client("elbv2")
    images = (
        ec2.describe_images(
            Owners=["amazon"], Filters=[{"Name": "name", "Values": ["amzn2-ami-hvm-*"]}]
        )["Images"]
        or ec2.describe_images(Owners=["amazon"])["Images"]
    )
    ami = sorted(images, key=lambda i: i["ImageId"])[0]["ImageId"]
    lt = ec2.create_launch_template(
        LaunchTemplateName=PHOENIX,
        LaunchTemplateData={
            "ImageId": ami,
            "InstanceType": PHOENIX_TYPE,
            "SecurityGroupIds": [groups[APP_SG]],
            "MetadataOptions": METADATA,
            "TagSpecifications": [{"ResourceType": "instance", "Tags": _tags(Workload=PHOENIX)}],
        },
    )["LaunchTemplate"]
    subnet_ids = [net["subnets"][az]["id"] for az in SUBNETS]
    # moto places every instance an ASG launches in its first AZ. So: an empty group over
    # both subnets, one instance run per subnet, attached, then min/desired 2.
    asg.create_auto_scaling_group(
        AutoScalingGroupName=PHOENIX,
        LaunchTemplate={"LaunchTemplateName": PHOENIX, "Version": "$Latest"},
        MinSize=0,
        MaxSize=4,
        DesiredCapacity=0,
        VPCZoneIdentifier=",".join(subnet_ids),
        HealthCheckType="ELB",
        HealthCheckGracePeriod=300,
        Tags=[
            {"Key": "Workload", "Value": PHOENIX, "PropagateAtLaunch": True},
            {"Key": "Estate", "Value": "qualitypost", "PropagateAtLaunch": True},
        ],
    )
    instance_ids = []
    for az in SUBNETS:
        inst = ec2.run_instances(
            LaunchTemplate={"LaunchTemplateName": PHOENIX, "Version": "$Latest"},
            MinCount=1,
            MaxCount=1,
            SubnetId=net["subnets"][az]["id"],
            SecurityGroupIds=[groups[APP_SG]],
            MetadataOptions=METADATA,
            BlockDeviceMappings=_root_volume(ec2, ami),
            TagSpecifications=[
                {
                    "ResourceType": "instance",
                    "Tags": _tags(Name=PHOENIX_NAMES[az], Workload=PHOENIX, Estate="qualitypost"),
                }
            ],
        )["Instances"][0]
        instance_ids.append(inst["InstanceId"])
    asg.attach_instances(AutoScalingGroupName=PHOENIX, InstanceIds=instance_ids)
    asg.update_auto_scaling_group(
        AutoScalingGroupName=PHOENIX, MinSize=2, DesiredCapacity=2, MaxSize=4
    )

    lb = elb.create_load_balancer(
        Name=PHOENIX,
        Subnets=[s["id"] for s in net["public_subnets"].values()],
        SecurityGroups=[groups[ALB_SG]],
        Scheme="internet-facing",
        Type="application",
    )["LoadBalancers"][0]
    tg = elb.create_target_group(
        Name=PHOENIX,
        Protocol="HTTP",
        Port=80,
        VpcId=net["id"],
        TargetType="instance",
        HealthCheckProtocol="HTTP",
        HealthCheckPath="/health",
    )["TargetGroups"][0]
    elb.create_listener(
        LoadBalancerArn=lb["LoadBalancerArn"],
        Protocol="HTTP",
        Port=80,
        DefaultActions=[{"Type": "forward", "TargetGroupArn": tg["TargetGroupArn"]}],
    )
    asg.attach_load_balancer_target_groups(
        AutoScalingGroupName=PHOENIX, TargetGroupARNs=[tg["TargetGroupArn"]]
    )
    elb.register_targets(
        TargetGroupArn=tg["TargetGroupArn"],
        Targets=[{"Id": i, "Port": 80} for i in instance_ids],
    )

    group = asg.describe_auto_scaling_groups(AutoScalingGroupNames=[PHOENIX])["AutoScalingGroups"][
        0
    ]
    described = {
        i["InstanceId"]: i
        for r in ec2.describe_instances(InstanceIds=instance_ids)["Reservations"]
        for i in r["Instances"]
    }
    instances = []
    for iid in instance_ids:
        i = described[iid]
        tags = {t["Key"]: t["Value"] for t in i.get("Tags", [])}
        instances.append(
            {
                "id": iid,
                "name": tags.get("Name"),
                "az": i["Placement"]["AvailabilityZone"],
                "type": i["InstanceType"],
                "private_ip": i.get("PrivateIpAddress"),
                "subnet_id": i.get("SubnetId"),
                "state": i["State"]["Name"],
                "image_id": i["ImageId"],
            }
        )
    in_group = {i["InstanceId"]: i["AvailabilityZone"] for i in group["Instances"]}
    if in_group != {i["id"]: i["az"] for i in instances}:
        raise SystemExit(f"seed: ASG lists {in_group}, expected {instances}")
    if len(set(in_group.values())) != 2:
        raise SystemExit(f"seed: Phoenix instances not in two AZs: {in_group}")
    health = elb.describe_target_health(TargetGroupArn=tg["TargetGroupArn"])[
        "TargetHealthDescriptions"
    ]
    out["phoenix"] = {
        "asg": PHOENIX,
        "asg_arn": group["AutoScalingGroupARN"],
        "min": group["MinSize"],
        "desired": group["DesiredCapacity"],
        "max": group["MaxSize"],
        "launch_template": {
            "id": lt["LaunchTemplateId"],
            "name": PHOENIX,
            "instance_type": PHOENIX_TYPE,
            "image_id": ami,
        },
        "tags": {"Workload": PHOENIX},
        "instances": instances,
        "target_group": {
            "name": PHOENIX,
            "arn": tg["TargetGroupArn"],
            "protocol": "HTTP",
            "port": 80,
            "health_check_path": "/health",
        },
        "load_balancer": {
            "name": PHOENIX,
            "arn": lb["LoadBalancerArn"],
            "dns_name": lb.get("DNSName"),
            # CloudWatch's dimensions are the tails of the ARNs.
            "dimension": lb["LoadBalancerArn"].split(":loadbalancer/", 1)[1],
            "target_group_dimension": tg["TargetGroupArn"].split(":", 5)[5],
        },
        "target_health": {h["Target"]["Id"]: h["TargetHealth"]["State"] for h in health},
    }


def seed_bastion(lab: Lab, out: dict, net: dict, groups: dict) -> None:
    """The bastion host: the one way in for IT staff, in a public subnet, known by its Name
    tag (the lab's ssh bastion is a local sshd; this is the instance AWS describes)."""
    ec2 = lab.client("ec2")
    ami = out["phoenix"]["launch_template"]["image_id"]
    i = ec2.run_instances(
        ImageId=ami,
        InstanceType=BASTION_TYPE,
        MinCount=1,
        MaxCount=1,
        SubnetId=net["public_subnets"]["us-east-1a"]["id"],
        SecurityGroupIds=[groups[BASTION_SG]],
        MetadataOptions=METADATA,
        BlockDeviceMappings=_root_volume(ec2, ami),
        TagSpecifications=[
            {"ResourceType": "instance", "Tags": _tags(Name=BASTION, Estate="qualitypost")}
        ],
    )["Instances"][0]
    out["security"]["bastion"] = {"id": i["InstanceId"], "name": BASTION}


def check_layers(lab: Lab, out: dict) -> None:
    """What the console's Security area reads holds as seeded, in the emulator's own answers."""
    ec2, rds = lab.client("ec2"), lab.client("rds")
    groups = out["security"]["groups"]
    hosts = [i["id"] for i in out["phoenix"]["instances"]] + [out["security"]["bastion"]["id"]]
    wrong = []
    for r in ec2.describe_instances(InstanceIds=hosts)["Reservations"]:
        for i in r["Instances"]:
            want = BASTION_SG if i["InstanceId"] == hosts[-1] else APP_SG
            if [g["GroupId"] for g in i["SecurityGroups"]] != [groups[want]]:
                wrong.append(f"{i['InstanceId']} groups {i['SecurityGroups']}")
            if i["MetadataOptions"]["HttpTokens"] != "required":
                wrong.append(f"{i['InstanceId']} HttpTokens {i['MetadataOptions']}")
            if i["InstanceId"] != hosts[-1] and i.get("PublicIpAddress"):
                wrong.append(f"{i['InstanceId']} has public address {i['PublicIpAddress']}")
            vols = [b["Ebs"]["VolumeId"] for b in i["BlockDeviceMappings"]]
            for v in ec2.describe_volumes(VolumeIds=vols)["Volumes"]:
                if not v["Encrypted"]:
                    wrong.append(f"{v['VolumeId']} of {i['InstanceId']} not encrypted")
    for m in rds.describe_db_instances(Filters=[{"Name": "db-cluster-id", "Values": [CLUSTER]}])[
        "DBInstances"
    ]:
        if [g["VpcSecurityGroupId"] for g in m["VpcSecurityGroups"]] != [groups[DB_SG]]:
            wrong.append(f"{m['DBInstanceIdentifier']} groups {m['VpcSecurityGroups']}")
        if m.get("PubliclyAccessible") is not False or not m.get("DBSubnetGroup"):
            wrong.append(f"{m['DBInstanceIdentifier']} public or without its subnet group")
    if not rds.describe_db_clusters(DBClusterIdentifier=CLUSTER)["DBClusters"][0][
        "StorageEncrypted"
    ]:
        wrong.append(f"{CLUSTER} not encrypted")
    acl = lab.client("wafv2").get_web_acl_for_resource(
        ResourceArn=out["phoenix"]["load_balancer"]["arn"]
    )
    if (acl.get("WebACL") or {}).get("Name") != WEB_ACL:
        wrong.append(f"the load balancer's web ACL is {acl.get('WebACL')}")
    if wrong:
        raise SystemExit(f"seed: the layers are not as seeded: {'; '.join(wrong)}")


def seed_waf(lab: Lab, out: dict) -> None:
    waf = lab.client("wafv2")

    def visibility(name: str) -> dict:
        return {
            "SampledRequestsEnabled": True,
            "CloudWatchMetricsEnabled": True,
            "MetricName": name,
        }

    rules = []
    for priority, name in enumerate(MANAGED_RULES):
        rules.append(
            {
                "Name": name,
                "Priority": priority,
                "Statement": {"ManagedRuleGroupStatement": {"VendorName": "AWS", "Name": name}},
                "OverrideAction": {"None": {}},
                "VisibilityConfig": visibility(name),
            }
        )
    rules.append(
        {
            "Name": RATE_RULE,
            "Priority": len(MANAGED_RULES),
            "Statement": {"RateBasedStatement": {"Limit": RATE_LIMIT, "AggregateKeyType": "IP"}},
            "Action": {"Block": {}},
            "VisibilityConfig": visibility(RATE_RULE),
        }
    )
    acl = waf.create_web_acl(
        Name=WEB_ACL,
        Scope="REGIONAL",
        DefaultAction={"Allow": {}},
        Description="QualityPost: Phoenix ALB",
        Rules=rules,
        VisibilityConfig=visibility(WEB_ACL),
    )["Summary"]
    associated = None
    try:
        waf.associate_web_acl(
            WebACLArn=acl["ARN"], ResourceArn=out["phoenix"]["load_balancer"]["arn"]
        )
        associated = out["phoenix"]["load_balancer"]["arn"]
    except botocore.exceptions.ClientError as e:
        log(f"AssociateWebACL refused: {_err(e)}")
    got = waf.get_web_acl(Name=WEB_ACL, Scope="REGIONAL", Id=acl["Id"])["WebACL"]
    out["waf"] = {
        "web_acl": {
            "name": WEB_ACL,
            "id": acl["Id"],
            "arn": acl["ARN"],
            "scope": "REGIONAL",
            "default_action": "Allow",
        },
        "associated_resource": associated,
        "rules": [
            {
                "name": r["Name"],
                "priority": r["Priority"],
                "kind": "managed" if "ManagedRuleGroupStatement" in r["Statement"] else "rate",
                "metric_name": r["VisibilityConfig"]["MetricName"],
                **(
                    {"vendor": "AWS"}
                    if "ManagedRuleGroupStatement" in r["Statement"]
                    else {"limit": r["Statement"]["RateBasedStatement"]["Limit"]}
                ),
            }
            for r in sorted(got["Rules"], key=lambda r: r["Priority"])
        ],
        "rule_names": [r["Name"] for r in sorted(got["Rules"], key=lambda r: r["Priority"])],
    }


def seed_vpn(lab: Lab, out: dict, net: dict) -> None:
    ec2 = lab.client("ec2")
    cgw = ec2.create_customer_gateway(
        Type="ipsec.1",
        PublicIp=CUSTOMER_GATEWAY_IP,
        BgpAsn=CUSTOMER_GATEWAY_ASN,
        TagSpecifications=[{"ResourceType": "customer-gateway", "Tags": _tags(Name=VPN_NAME)}],
    )["CustomerGateway"]
    vgw = ec2.create_vpn_gateway(
        Type="ipsec.1",
        AmazonSideAsn=64512,
        TagSpecifications=[{"ResourceType": "vpn-gateway", "Tags": _tags(Name="qualitypost")}],
    )["VpnGateway"]
    ec2.attach_vpn_gateway(VpcId=net["id"], VpnGatewayId=vgw["VpnGatewayId"])
    conn = ec2.create_vpn_connection(
        Type="ipsec.1",
        CustomerGatewayId=cgw["CustomerGatewayId"],
        VpnGatewayId=vgw["VpnGatewayId"],
        Options={"StaticRoutesOnly": True},
        TagSpecifications=[{"ResourceType": "vpn-connection", "Tags": _tags(Name=VPN_NAME)}],
    )["VpnConnection"]
    vpn_id = conn["VpnConnectionId"]
    routes_applied, route_error = [], None
    for cidr in VPN_STATIC_ROUTES:
        _last_status["status"] = None
        try:
            lab.client("ec2", retries=1).create_vpn_connection_route(
                VpnConnectionId=vpn_id, DestinationCidrBlock=cidr
            )
            routes_applied.append(cidr)
        except Exception as e:  # moto 5.2.5: not implemented, HTTP 500
            route_error = _err(e)
    described = ec2.describe_vpn_connections(VpnConnectionIds=[vpn_id])["VpnConnections"][0]
    reported = {
        "state": described.get("State"),
        "has_options": "Options" in described,
        "tunnel_options": [
            t.get("OutsideIpAddress") for t in described.get("Options", {}).get("TunnelOptions", [])
        ],
        "vgw_telemetry": [
            {"outside_ip": t.get("OutsideIpAddress"), "status": t.get("Status")}
            for t in described.get("VgwTelemetry", [])
        ],
        "routes": [r.get("DestinationCidrBlock") for r in described.get("Routes", [])],
        "has_customer_gateway_configuration": bool(described.get("CustomerGatewayConfiguration")),
    }
    tunnels = [
        {"index": n + 1, "outside_ip": ip, "state": state} for n, (ip, state) in enumerate(TUNNELS)
    ]
    out["vpn"] = {
        "connection_id": vpn_id,
        "name": VPN_NAME,
        "state": described.get("State"),
        "type": "ipsec.1",
        "customer_gateway": {
            "id": cgw["CustomerGatewayId"],
            "ip": CUSTOMER_GATEWAY_IP,
            "bgp_asn": CUSTOMER_GATEWAY_ASN,
        },
        "vpn_gateway_id": vgw["VpnGatewayId"],
        "static_routes": VPN_STATIC_ROUTES,
        "static_routes_applied": routes_applied,
        "static_routes_error": route_error,
        "tunnels": tunnels,
        "tunnel_ips": [t["outside_ip"] for t in tunnels],
        "down_tunnel_ips": [t["outside_ip"] for t in tunnels if t["state"] == "DOWN"],
        "tunnel_ip_source": (
            "chosen by the seed (moto reports neither Options.TunnelOptions nor VgwTelemetry); "
            "they appear only as the TunnelIpAddress dimension of AWS/VPN metrics"
        ),
        "moto_reports": reported,
    }


def seed_backup(lab: Lab, out: dict) -> None:
    bk = lab.client("backup")
    vault = bk.create_backup_vault(BackupVaultName=BACKUP_VAULT)
    plan = bk.create_backup_plan(
        BackupPlan={
            "BackupPlanName": BACKUP_PLAN,
            "Rules": [
                {
                    "RuleName": "daily",
                    "TargetBackupVaultName": BACKUP_VAULT,
                    "ScheduleExpression": BACKUP_SCHEDULE,
                    "StartWindowMinutes": 60,
                    "CompletionWindowMinutes": 180,
                    "Lifecycle": {"DeleteAfterDays": BACKUP_DAYS},
                }
            ],
        }
    )
    instance_arns = [
        f"arn:aws:ec2:{REGION}:{ACCOUNT}:instance/{i['id']}" for i in out["phoenix"]["instances"]
    ]
    resources = (
        [out["aurora"]["arn"]] + [m["arn"] for m in out["aurora"]["members"]] + instance_arns
    )
    selection = bk.create_backup_selection(
        BackupPlanId=plan["BackupPlanId"],
        BackupSelection={
            "SelectionName": CLUSTER,
            "IamRoleArn": BACKUP_ROLE,
            "Resources": resources,
        },
    )
    # The daily backup of every protected resource: the cluster and each Phoenix instance.
    # ministack completes a started job at once (State COMPLETED, CreationDate now).
    jobs = []
    for arn in [out["aurora"]["arn"]] + instance_arns:
        job = bk.start_backup_job(BackupVaultName=BACKUP_VAULT, ResourceArn=arn, IamRoleArn=BACKUP_ROLE)
        jobs.append(bk.describe_backup_job(BackupJobId=job["BackupJobId"]))
    out["backup"] = {
        "served_by": "ministack",
        "vault": {"name": BACKUP_VAULT, "arn": vault["BackupVaultArn"]},
        "plan": {
            "id": plan["BackupPlanId"],
            "arn": plan["BackupPlanArn"],
            "name": BACKUP_PLAN,
            "rule": "daily",
            "schedule": BACKUP_SCHEDULE,
            "delete_after_days": BACKUP_DAYS,
        },
        "selection": {
            "id": selection["SelectionId"],
            "name": CLUSTER,
            "resources": resources,
        },
        "jobs": [
            {
                "id": described["BackupJobId"],
                "resource_arn": described["ResourceArn"],
                "state": described["State"],
                "creation_date": _iso(described["CreationDate"]),
                "completion_date": _iso(described["CompletionDate"])
                if described.get("CompletionDate")
                else None,
                "recovery_point_arn": described.get("RecoveryPointArn"),
            }
            for described in jobs
        ],
    }


# The move from Aurora Serverless (the seed's history): a full load and change capture, run
# and stopped at cut-over.
DMS_TASK = "serverless-to-aurora"


def seed_dms(lab: Lab, out: dict) -> None:
    dms = lab.client("dms")
    instance = dms.create_replication_instance(
        ReplicationInstanceIdentifier="qualitypost-dms",
        ReplicationInstanceClass="dms.t3.medium",
    )["ReplicationInstance"]["ReplicationInstanceArn"]
    source, target = (
        dms.create_endpoint(
            EndpointIdentifier=name,
            EndpointType=kind,
            EngineName="aurora",
            ServerName=f"{name}.cluster-lab.{REGION}.rds.amazonaws.com",
            Port=3306,
            Username="dms",
            Password="lab-only",
        )["Endpoint"]["EndpointArn"]
        for name, kind in (("qualitypost-serverless", "source"), (CLUSTER, "target"))
    )
    task = dms.create_replication_task(
        ReplicationTaskIdentifier=DMS_TASK,
        SourceEndpointArn=source,
        TargetEndpointArn=target,
        ReplicationInstanceArn=instance,
        MigrationType="full-load-and-cdc",
        TableMappings=json.dumps(
            {
                "rules": [
                    {
                        "rule-type": "selection",
                        "rule-id": "1",
                        "rule-name": "phoenix",
                        "object-locator": {"schema-name": "phoenix", "table-name": "%"},
                        "rule-action": "include",
                    }
                ]
            }
        ),
    )["ReplicationTask"]["ReplicationTaskArn"]
    dms.start_replication_task(
        ReplicationTaskArn=task, StartReplicationTaskType="start-replication"
    )
    dms.stop_replication_task(ReplicationTaskArn=task)
    described = dms.describe_replication_tasks(
        Filters=[{"Name": "replication-task-arn", "Values": [task]}]
    )["ReplicationTasks"][0]
    out["dms"] = {
        "task": DMS_TASK,
        "arn": task,
        "status": described["Status"],
        "migration_type": described["MigrationType"],
        "full_load_progress_percent": described["ReplicationTaskStats"][
            "FullLoadProgressPercent"
        ],
    }


def seed_sts(lab: Lab, out: dict) -> None:
    who = lab.client("sts").get_caller_identity()
    out["sts"] = {"account": who["Account"], "arn": who["Arn"], "user_id": who["UserId"]}


# --------------------------------------------------------------------------------------------
# Metrics: 60 one-minute points per series, deterministic values.


def build_series(out: dict) -> list[dict]:
    rng = random.Random(RANDOM_SEED)
    n = MINUTES
    spike_from = n - SPIKE_MINUTES
    series: list[dict] = []

    def add(ns, metric, dims, unit, values, distribution=None):
        series.append(
            {"namespace": ns, "metric": metric, "dimensions": dims, "unit": unit, "values": values}
        )
        if distribution:
            series[-1]["distribution"] = distribution

    # AWS/WAFV2: per rule and the ALL totals. The managed groups and the rate rule block;
    # part of the common rule set is in count mode; allowed requests are the default action's.
    waf_dims = lambda rule: {"WebACL": WEB_ACL, "Rule": rule, "Region": REGION}
    blocked_base = {
        "AWSManagedRulesCommonRuleSet": (15, 30),
        "AWSManagedRulesKnownBadInputsRuleSet": (2, 8),
        "AWSManagedRulesSQLiRuleSet": (1, 5),
        RATE_RULE: (3, 7),
    }
    blocked, counted = {}, {}
    for rule, (lo, hi) in blocked_base.items():
        vals = [rng.randint(lo, hi) for _ in range(n)]
        if rule == RATE_RULE:
            vals = [v * SPIKE_FACTOR if i >= spike_from else v for i, v in enumerate(vals)]
        blocked[rule] = vals
        counted[rule] = (
            [rng.randint(0, 3) for _ in range(n)]
            if rule == "AWSManagedRulesCommonRuleSet"
            else [0] * n
        )
    allowed_all = [rng.randint(1200, 1800) for _ in range(n)]
    for rule in blocked_base:
        add("AWS/WAFV2", "BlockedRequests", waf_dims(rule), "Count", blocked[rule])
        add("AWS/WAFV2", "CountedRequests", waf_dims(rule), "Count", counted[rule])
        add("AWS/WAFV2", "AllowedRequests", waf_dims(rule), "Count", [0] * n)
    add(
        "AWS/WAFV2",
        "BlockedRequests",
        waf_dims("ALL"),
        "Count",
        [sum(blocked[r][i] for r in blocked) for i in range(n)],
    )
    add(
        "AWS/WAFV2",
        "CountedRequests",
        waf_dims("ALL"),
        "Count",
        [sum(counted[r][i] for r in counted) for i in range(n)],
    )
    add("AWS/WAFV2", "AllowedRequests", waf_dims("ALL"), "Count", allowed_all)

    # AWS/VPN: per tunnel (TunnelIpAddress, as AWS publishes), per connection (VpnId, as AWS
    # publishes: TunnelState is the fraction of tunnels up), and per tunnel with both
    # dimensions (a lab addition, so that ListMetrics by VpnId finds the tunnels moto omits).
    vpn_id = out["vpn"]["connection_id"]
    per_tunnel = {}
    for ip, state in TUNNELS:
        up = state == "UP"
        per_tunnel[ip] = {
            "TunnelState": [1.0 if up else 0.0] * n,
            "TunnelDataIn": [
                float(rng.randint(2_000_000, 6_000_000)) if up else 0.0 for _ in range(n)
            ],
            "TunnelDataOut": [
                float(rng.randint(1_000_000, 3_000_000)) if up else 0.0 for _ in range(n)
            ],
        }
    units = {"TunnelState": "None", "TunnelDataIn": "Bytes", "TunnelDataOut": "Bytes"}
    for ip, metrics in per_tunnel.items():
        for metric, vals in metrics.items():
            add("AWS/VPN", metric, {"TunnelIpAddress": ip}, units[metric], vals)
            add("AWS/VPN", metric, {"VpnId": vpn_id, "TunnelIpAddress": ip}, units[metric], vals)
    ips = list(per_tunnel)
    add(
        "AWS/VPN",
        "TunnelState",
        {"VpnId": vpn_id},
        "None",
        [sum(per_tunnel[ip]["TunnelState"][i] for ip in ips) / len(ips) for i in range(n)],
    )
    for metric in ("TunnelDataIn", "TunnelDataOut"):
        add(
            "AWS/VPN",
            metric,
            {"VpnId": vpn_id},
            "Bytes",
            [sum(per_tunnel[ip][metric][i] for ip in ips) for i in range(n)],
        )

    # AWS/RDS: per instance, the reader's replica lag, the cluster volume.
    profile = {
        WRITER: {"cpu": (25, 45), "conn": (100, 140), "mem": (5.5, 6.5)},
        READER: {"cpu": (10, 25), "conn": (40, 70), "mem": (7.0, 8.0)},
    }
    for ident, p in profile.items():
        d = {"DBInstanceIdentifier": ident}
        add(
            "AWS/RDS",
            "CPUUtilization",
            d,
            "Percent",
            [round(rng.uniform(*p["cpu"]), 2) for _ in range(n)],
        )
        add(
            "AWS/RDS",
            "DatabaseConnections",
            d,
            "Count",
            [float(rng.randint(*p["conn"])) for _ in range(n)],
        )
        add(
            "AWS/RDS",
            "FreeableMemory",
            d,
            "Bytes",
            [float(int(rng.uniform(*p["mem"]) * GIB)) for _ in range(n)],
        )
    add(
        "AWS/RDS",
        "AuroraReplicaLag",
        {"DBInstanceIdentifier": READER},
        "Milliseconds",
        [round(rng.uniform(12, 30), 2) for _ in range(n)],
    )
    add(
        "AWS/RDS",
        "VolumeBytesUsed",
        {"DBClusterIdentifier": CLUSTER},
        "Bytes",
        [float(48 * GIB + i * 1_048_576) for i in range(n)],
    )

    # AWS/ApplicationELB: Phoenix's target group behind its load balancer, with a known 5xx
    # rate (ELB_5XX_PCT, under the 1 % the console calls degraded) and response times put as
    # distributions (Values and Counts), so that p50 and p99 differ as they do on AWS.
    lbd = out["phoenix"]["load_balancer"]
    tgd = {"TargetGroup": lbd["target_group_dimension"], "LoadBalancer": lbd["dimension"]}
    only_lb = {"LoadBalancer": lbd["dimension"]}
    add("AWS/ApplicationELB", "RequestCount", tgd, "Count", [float(ELB_REQUESTS)] * n)
    add(
        "AWS/ApplicationELB",
        "HTTPCode_Target_5XX_Count",
        tgd,
        "Count",
        [ELB_REQUESTS * ELB_5XX_PCT / 100] * n,
    )
    add(
        "AWS/ApplicationELB",
        "HTTPCode_Target_4XX_Count",
        tgd,
        "Count",
        [float(rng.randint(20, 40)) for _ in range(n)],
    )
    add("AWS/ApplicationELB", "HTTPCode_ELB_5XX_Count", only_lb, "Count", [0.0] * n)
    add("AWS/ApplicationELB", "RejectedConnectionCount", only_lb, "Count", [0.0] * n)
    times, counts = ELB_RESPONSE
    add(
        "AWS/ApplicationELB",
        "TargetResponseTime",
        tgd,
        "Seconds",
        [sum(t * c for t, c in zip(times, counts)) / sum(counts)] * n,
        distribution=(times, counts),
    )
    for az in sorted({i["az"] for i in out["phoenix"]["instances"]}):
        zd = dict(tgd, AvailabilityZone=az)
        healthy = float(sum(1 for i in out["phoenix"]["instances"] if i["az"] == az))
        add("AWS/ApplicationELB", "HealthyHostCount", zd, "Count", [healthy] * n)
        add("AWS/ApplicationELB", "UnHealthyHostCount", zd, "Count", [0.0] * n)
    out["phoenix"]["load_balancer"]["metrics"] = {
        "requests_per_minute": ELB_REQUESTS,
        "http_5xx_pct": ELB_5XX_PCT,
        "p50_ms": ELB_P50_MS,
        "p99_ms": ELB_P99_MS,
    }

    # AWS/EC2: per Phoenix instance, by the ids moto issued.
    for inst in out["phoenix"]["instances"]:
        d = {"InstanceId": inst["id"]}
        add(
            "AWS/EC2",
            "CPUUtilization",
            d,
            "Percent",
            [round(rng.uniform(20, 60), 2) for _ in range(n)],
        )
        add("AWS/EC2", "StatusCheckFailed", d, "Count", [0.0] * n)
        add(
            "AWS/EC2",
            "NetworkIn",
            d,
            "Bytes",
            [float(rng.randint(5_000_000, 20_000_000)) for _ in range(n)],
        )
        add(
            "AWS/EC2",
            "NetworkOut",
            d,
            "Bytes",
            [float(rng.randint(8_000_000, 30_000_000)) for _ in range(n)],
        )
    return series


def seed_metrics(lab: Lab, out: dict) -> None:
    cw = lab.client("cloudwatch")
    # The 60 whole minutes before the seed: [start, end), one point at the start of each.
    end = dt.datetime.now(dt.timezone.utc).replace(second=0, microsecond=0)
    start = end - dt.timedelta(minutes=MINUTES)
    stamps = [start + dt.timedelta(minutes=i) for i in range(MINUTES)]
    series = build_series(out)
    batch: dict[str, list] = {}
    for s in series:
        dims = [{"Name": k, "Value": v} for k, v in s["dimensions"].items()]
        for t, v in zip(stamps, s["values"]):
            datum = {
                "MetricName": s["metric"],
                "Dimensions": dims,
                "Timestamp": t,
                "Unit": s["unit"],
            }
            if "distribution" in s:
                values, counts = s["distribution"]
                datum["Values"], datum["Counts"] = list(values), [float(c) for c in counts]
            else:
                datum["Value"] = float(v)
            batch.setdefault(s["namespace"], []).append(datum)
    for ns, data in batch.items():
        for k in range(0, len(data), 500):
            cw.put_metric_data(Namespace=ns, MetricData=data[k : k + 500])

    summaries = []
    for s in series:
        v = s["values"]
        summaries.append(
            {
                "namespace": s["namespace"],
                "metric": s["metric"],
                "dimensions": s["dimensions"],
                "unit": s["unit"],
                "count": len(v),
                "sum": round(float(sum(v)), 4),
                "min": float(min(v)),
                "max": float(max(v)),
                "avg": round(float(sum(v)) / len(v), 4),
                "first": float(v[0]),
                "last": float(v[-1]),
                "last_5min_sum": round(float(sum(v[-SPIKE_MINUTES:])), 4),
                # Each point, so a test can sum exactly the ones inside its own window.
                "points": [[_iso(t), float(x)] for t, x in zip(stamps, v)],
            }
        )

    def waf_sum(metric: str, rule: str, key: str = "sum") -> float:
        for s in summaries:
            if (
                s["namespace"] == "AWS/WAFV2"
                and s["metric"] == metric
                and s["dimensions"]["Rule"] == rule
            ):
                return int(s[key])
        raise KeyError(rule)

    rules = out["waf"]["rule_names"] + ["ALL"]
    out["waf"]["metrics"] = {
        "dimensions": {"WebACL": WEB_ACL, "Rule": "<rule metric name> or ALL", "Region": REGION},
        "blocked_last_hour": {r: waf_sum("BlockedRequests", r) for r in rules},
        "allowed_last_hour": {r: waf_sum("AllowedRequests", r) for r in rules},
        "counted_last_hour": {r: waf_sum("CountedRequests", r) for r in rules},
        "blocked_last_5min": {r: waf_sum("BlockedRequests", r, "last_5min_sum") for r in rules},
        "blocked_total_last_hour": waf_sum("BlockedRequests", "ALL"),
        "spike": {"rule": RATE_RULE, "last_minutes": SPIKE_MINUTES, "factor": SPIKE_FACTOR},
    }
    out["vpn"]["metric_dimension_sets"] = [
        ["TunnelIpAddress"],
        ["VpnId"],
        ["VpnId", "TunnelIpAddress"],
    ]
    out["metrics"] = {
        "served_by": "ministack",
        "window": {
            "start": _iso(start),
            "end": _iso(end),
            "period_seconds": 60,
            "points": MINUTES,
            "note": "one point at the start of each minute in [start, end); "
            "query StartTime=start, EndTime=end to get exactly these sums",
        },
        "random_seed": RANDOM_SEED,
        "series": summaries,
    }

    # Read one series back through GetMetricData to be sure the window is served.
    probe = cw.get_metric_data(
        MetricDataQueries=[
            {
                "Id": "blocked",
                "MetricStat": {
                    "Metric": {
                        "Namespace": "AWS/WAFV2",
                        "MetricName": "BlockedRequests",
                        "Dimensions": [{"Name": k, "Value": v} for k, v in waf_dims_all().items()],
                    },
                    "Period": 60,
                    "Stat": "Sum",
                },
            }
        ],
        StartTime=start,
        EndTime=end,
    )["MetricDataResults"][0]
    got = sum(probe["Values"])
    want = out["waf"]["metrics"]["blocked_total_last_hour"]
    if len(probe["Values"]) != MINUTES or int(got) != want:
        raise SystemExit(
            f"seed: GetMetricData read back {len(probe['Values'])} points summing {got}, "
            f"expected {MINUTES} summing {want}"
        )


def waf_dims_all() -> dict:
    return {"WebACL": WEB_ACL, "Rule": "ALL", "Region": REGION}


# --------------------------------------------------------------------------------------------
# Logs: CloudWatch Logs groups in moto, and the Phoenix instances' own log files.


def aurora_log_group(kind: str) -> str:
    return f"/aws/rds/cluster/{CLUSTER}/{kind}"


def _spread(rng: random.Random, n: int, start_ms: int, end_ms: int) -> list[int]:
    """n distinct millisecond timestamps in [start_ms, end_ms), sorted."""
    return sorted(rng.sample(range(start_ms, end_ms), n))


def _mysql_time(ms: int, rng: random.Random) -> str:
    """MySQL 8's log timestamp (UTC, microseconds) for an event at ms."""
    t = dt.datetime.fromtimestamp(ms / 1000, dt.timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{(ms % 1000) * 1000 + rng.randrange(1000):06d}Z"


def phoenix_app_events(rng: random.Random, iid: str, start_ms: int, end_ms: int) -> list[tuple]:
    """PHOENIX_LOG_EVENTS request lines of one instance: two WARN, one ERROR ... 502."""
    levels = ["INFO"] * PHOENIX_LOG_EVENTS
    for k, level in zip(rng.sample(range(PHOENIX_LOG_EVENTS), 3), ("WARN", "WARN", "ERROR")):
        levels[k] = level
    stamps = _spread(rng, PHOENIX_LOG_EVENTS, start_ms, end_ms)
    return [(ms, lablogs.request_text(rng, iid, level)) for ms, level in zip(stamps, levels)]


def aurora_error_events(
    rng: random.Random, writer: bool, ips: list[str], start_ms: int, end_ms: int
) -> list[tuple]:
    """MySQL 8 error-log lines (log_error_verbosity 3) of one cluster member."""
    kinds = [
        lambda c, ip: f"{c} [Note] [MY-010914] [Server] Aborted connection {c} to db: 'phoenix' "
        f"user: 'phoenix' host: '{ip}' (Got timeout reading communication packets).",
        lambda c, ip: f"{c} [Warning] [MY-010055] [Server] IP address '{ip}' could not be "
        "resolved: Name or service not known",
        lambda c, ip: f"{c} [Note] [MY-013730] [Server] 'wait_timeout' period of 28800 seconds "
        f"was exceeded for `phoenix`@`{ip}`. The idle time since last command was too long.",
        lambda c, ip: f"{c} [Note] [MY-010926] [Server] Access denied for user "
        f"'qpconsole'@'{ip}' (using password: YES)",
    ]
    if writer:
        kinds += [
            lambda c, ip: "0 [Note] [MY-012468] [InnoDB] Transactions deadlock detected, "
            "dumping detailed information. (lock0lock.cc:6482)",
            lambda c, ip: f"{c} [ERROR] [MY-001114] [Server] The table "
            f"'/rdsdbdata/tmp/#sql1f2_{c:x}_3' is full",
        ]
    n = 8 if writer else 5
    stamps = _spread(rng, n, start_ms, end_ms)
    picks = list(range(len(kinds))) + [rng.randrange(len(kinds)) for _ in range(n - len(kinds))]
    rng.shuffle(picks)
    return [
        (ms, f"{_mysql_time(ms, rng)} {kinds[k](rng.randint(20, 900), rng.choice(ips))}")
        for ms, k in zip(stamps, picks)
    ]


SLOW_QUERIES = [
    "SELECT id, status, updated_at FROM parcels WHERE tracking_no = '{tn}';",
    "SELECT COUNT(*) FROM parcel_events WHERE created_at > NOW() - INTERVAL 1 DAY;",
    "UPDATE parcels SET status = 'delivered' WHERE id IN (SELECT parcel_id FROM deliveries "
    "WHERE driver_id = 4411);",
    "SELECT p.id, e.kind, e.created_at FROM parcels p JOIN parcel_events e ON e.parcel_id = p.id "
    "WHERE p.customer_id = 90210 ORDER BY e.created_at DESC;",
]


def aurora_slowquery_events(
    rng: random.Random, n: int, ips: list[str], start_ms: int, end_ms: int
) -> list[tuple]:
    """MySQL slow-query-log entries, each one multi-line event as RDS exports them."""
    out = []
    for k, ms in enumerate(_spread(rng, n, start_ms, end_ms)):
        query = SLOW_QUERIES[k % len(SLOW_QUERIES)].format(tn=lablogs.tracking_number(rng))
        when, ip, conn = _mysql_time(ms, rng), rng.choice(ips), rng.randint(20, 900)
        qt, lt = rng.uniform(1.2, 9.5), rng.uniform(0, 0.002)
        sent, examined = rng.randint(0, 40), rng.randint(50_000, 2_500_000)
        out.append(
            (
                ms,
                f"# Time: {when}\n"
                f"# User@Host: phoenix[phoenix] @ [{ip}]  Id: {conn}\n"
                f"# Query_time: {qt:.6f}  Lock_time: {lt:.6f} "
                f"Rows_sent: {sent}  Rows_examined: {examined}\n"
                f"SET timestamp={ms // 1000};\n"
                f"{query}",
            )
        )
    return out


def _group_record(name: str, kind: str, streams: dict[str, list[tuple]]) -> dict:
    rec: dict = {"name": name, "kind": kind, "streams": {}}
    for stream, events in streams.items():
        s = {
            "events": len(events),
            "first_ms": events[0][0],
            "last_ms": events[-1][0],
        }
        if kind == "phoenix":
            levels: dict[str, int] = {}
            for _, m in events:
                levels[m.split(" ", 1)[0]] = levels.get(m.split(" ", 1)[0], 0) + 1
            s["levels"] = dict(sorted(levels.items()))
        s["messages"] = [{"timestamp": ms, "message": m} for ms, m in events]
        rec["streams"][stream] = s
    every = [ms for events in streams.values() for ms, _ in events]
    rec.update(events=len(every), first_ms=min(every), last_ms=max(every))
    return rec


def seed_logs(lab: Lab, out: dict) -> None:
    logs = lab.client("logs")
    rng = random.Random(RANDOM_SEED + 1)  # its own sequence: metric values stay as they were
    end_ms = int(time.time() * 1000)
    start_ms = end_ms - LOG_WINDOW_MS
    instances = out["phoenix"]["instances"]
    ips = [i["private_ip"] for i in instances]
    groups = {
        lablogs.PHOENIX_LOG_GROUP: (
            "phoenix",
            {i["id"]: phoenix_app_events(rng, i["id"], start_ms, end_ms) for i in instances},
        ),
        aurora_log_group("error"): (
            "aurora-error",
            {
                m["id"]: aurora_error_events(rng, m["role"] == "writer", ips, start_ms, end_ms)
                for m in out["aurora"]["members"]
            },
        ),
        aurora_log_group("slowquery"): (
            "aurora-slowquery",
            {
                m["id"]: aurora_slowquery_events(
                    rng, 3 if m["role"] == "writer" else 2, ips, start_ms, end_ms
                )
                for m in out["aurora"]["members"]
            },
        ),
    }
    records = {}
    for name, (kind, streams) in groups.items():
        logs.create_log_group(logGroupName=name, tags={"Estate": "qualitypost"})
        for stream, events in streams.items():
            logs.create_log_stream(logGroupName=name, logStreamName=stream)
            logs.put_log_events(
                logGroupName=name,
                logStreamName=stream,
                logEvents=[{"timestamp": ms, "message": m} for ms, m in events],
            )
        records[name] = _group_record(name, kind, streams)

    # Read every group back, as the console will (interleaved: see lab/README.md), to be sure
    # moto serves exactly what is recorded.
    for name, rec in records.items():
        got = logs.filter_log_events(logGroupName=name, interleaved=True)["events"]
        per_stream = {s: 0 for s in rec["streams"]}
        for e in got:
            per_stream[e["logStreamName"]] = per_stream.get(e["logStreamName"], 0) + 1
        want = {s: v["events"] for s, v in rec["streams"].items()}
        if per_stream != want:
            raise SystemExit(f"seed: FilterLogEvents on {name} gave {per_stream}, expected {want}")

    # What RDS itself says about the members' log files (DescribeDBLogFiles).
    rds = lab.client("rds")
    log_files = {}
    for m in out["aurora"]["members"]:
        files = rds.describe_db_log_files(DBInstanceIdentifier=m["id"])["DescribeDBLogFiles"]
        log_files[m["id"]] = [
            {"name": f["LogFileName"], "size": f.get("Size"), "last_written": f.get("LastWritten")}
            for f in files
        ]
    out["logs"] = {
        "served_by": "moto",
        "window": {"start_ms": start_ms, "end_ms": end_ms},
        "phoenix_group": lablogs.PHOENIX_LOG_GROUP,
        "aurora_groups": {kind: aurora_log_group(kind) for kind in AURORA_LOG_EXPORTS},
        "groups": records,
        "rds_log_files": log_files,
    }


def write_instance_logs(lab: Lab, out: dict, only_missing: bool = False) -> bool:
    """STATE/logs/<instance id>.log for each Phoenix instance: INSTANCE_LOG_LINES lines in
    `journalctl -o short-iso` style up to now (one WARN), for the console's command source
    (`tail -F` through the bastion). Files of instances the seed no longer has are removed.
    With only_missing, existing files are kept (a reuse of the lab). Returns whether it
    changed out["logs"]["instance_files"]."""
    d = os.path.join(os.path.abspath(lab.state), "logs")
    os.makedirs(d, exist_ok=True)
    # Readable by any login (the instance sshd's user is whoever ran lab/up, but the lab has
    # other logins too), whatever the umask.
    os.chmod(d, 0o755)
    instances = out["phoenix"]["instances"]
    record = out.get("logs", {}).get("instance_files") or {"dir": d, "files": {}}
    changed = record.get("dir") != d
    record["dir"] = d
    wanted = {f"{i['id']}.log" for i in instances}
    for name in os.listdir(d):
        if name.endswith(".log") and name not in wanted:
            os.remove(os.path.join(d, name))
    for index, i in enumerate(instances):
        path = os.path.join(d, f"{i['id']}.log")
        if only_missing and os.path.isfile(path) and i["id"] in record["files"]:
            continue
        rng = random.Random(f"{RANDOM_SEED} {i['id']}")
        host, pid = lablogs.instance_host(i["private_ip"]), lablogs.instance_pid(index)
        now = time.time()
        stamps = sorted(now - rng.uniform(1, 300) for _ in range(INSTANCE_LOG_LINES))
        warn = rng.randrange(INSTANCE_LOG_LINES)
        lines = [
            lablogs.instance_line(
                t, host, pid, lablogs.request_text(rng, i["id"], "WARN" if k == warn else "INFO")
            )
            for k, t in enumerate(stamps)
        ]
        with open(path + ".tmp", "w") as f:
            f.write("\n".join(lines) + "\n")
        os.chmod(path + ".tmp", 0o644)
        os.replace(path + ".tmp", path)
        record["files"][i["id"]] = {
            "path": path,
            "host": host,
            "pid": pid,
            "lines": len(lines),
            "first": lablogs.short_iso(stamps[0]),
            "last": lablogs.short_iso(stamps[-1]),
        }
        changed = True
    for iid in list(record["files"]):
        if f"{iid}.log" not in wanted:
            del record["files"][iid]
            changed = True
    record["command"] = "tail -n 200 -F " + shlex.quote(d) + "/{instance}.log"
    out.setdefault("logs", {})["instance_files"] = record
    return changed


# --------------------------------------------------------------------------------------------
# Which emulator answers which call (read-only calls; both emulators are asked).


def probe_calls(lab: Lab, out: dict) -> dict:
    now = dt.datetime.now(dt.timezone.utc)
    hour_ago = now - dt.timedelta(hours=1)
    acl = out["waf"]["web_acl"]
    tg = out["phoenix"]["target_group"]["arn"]
    iid = out["phoenix"]["instances"][0]["id"]
    plan = out["backup"]["plan"]["id"]
    metric = {
        "Namespace": "AWS/EC2",
        "MetricName": "CPUUtilization",
        "Dimensions": [{"Name": "InstanceId", "Value": iid}],
    }
    calls = [
        (
            "rds",
            "DescribeDBClusters",
            lambda c: c.describe_db_clusters(DBClusterIdentifier=CLUSTER),
        ),
        ("rds", "DescribeDBInstances", lambda c: c.describe_db_instances()),
        ("rds", "DescribeEvents", lambda c: c.describe_events(Duration=60)),
        (
            "rds",
            "DescribeDBClusterSnapshots",
            lambda c: c.describe_db_cluster_snapshots(DBClusterIdentifier=CLUSTER),
        ),
        (
            "rds",
            "DescribePendingMaintenanceActions",
            lambda c: c.describe_pending_maintenance_actions(),
        ),
        (
            "rds",
            "DescribeOrderableDBInstanceOptions",
            lambda c: c.describe_orderable_db_instance_options(Engine=ENGINE),
        ),
        ("ec2", "DescribeInstances", lambda c: c.describe_instances()),
        (
            "ec2",
            "DescribeInstanceStatus",
            lambda c: c.describe_instance_status(IncludeAllInstances=True),
        ),
        ("ec2", "DescribeVpnConnections", lambda c: c.describe_vpn_connections()),
        (
            "ec2",
            "DescribeInstanceTypeOfferings",
            lambda c: c.describe_instance_type_offerings(LocationType="availability-zone"),
        ),
        ("ec2", "DescribeSubnets", lambda c: c.describe_subnets()),
        ("ec2", "DescribeSecurityGroups", lambda c: c.describe_security_groups()),
        ("ec2", "DescribeRouteTables", lambda c: c.describe_route_tables()),
        ("ec2", "DescribeVolumes", lambda c: c.describe_volumes()),
        ("ec2", "DescribeVpnGateways", lambda c: c.describe_vpn_gateways()),
        ("ec2", "DescribeCustomerGateways", lambda c: c.describe_customer_gateways()),
        (
            "autoscaling",
            "DescribeAutoScalingGroups",
            lambda c: c.describe_auto_scaling_groups(AutoScalingGroupNames=[PHOENIX]),
        ),
        (
            "autoscaling",
            "DescribeInstanceRefreshes",
            lambda c: c.describe_instance_refreshes(AutoScalingGroupName=PHOENIX),
        ),
        (
            "autoscaling",
            "DescribeScalingActivities",
            lambda c: c.describe_scaling_activities(AutoScalingGroupName=PHOENIX),
        ),
        ("elbv2", "DescribeLoadBalancers", lambda c: c.describe_load_balancers()),
        ("elbv2", "DescribeTargetGroups", lambda c: c.describe_target_groups(Names=[PHOENIX])),
        ("elbv2", "DescribeTargetHealth", lambda c: c.describe_target_health(TargetGroupArn=tg)),
        ("wafv2", "ListWebACLs", lambda c: c.list_web_acls(Scope="REGIONAL")),
        (
            "wafv2",
            "GetWebACL",
            lambda c: c.get_web_acl(Name=acl["name"], Scope="REGIONAL", Id=acl["id"]),
        ),
        (
            "wafv2",
            "GetSampledRequests",
            lambda c: c.get_sampled_requests(
                WebAclArn=acl["arn"],
                RuleMetricName=RATE_RULE,
                Scope="REGIONAL",
                TimeWindow={"StartTime": hour_ago, "EndTime": now},
                MaxItems=10,
            ),
        ),
        (
            "wafv2",
            "GetWebACLForResource",
            lambda c: c.get_web_acl_for_resource(
                ResourceArn=out["phoenix"]["load_balancer"]["arn"]
            ),
        ),
        (
            "wafv2",
            "ListResourcesForWebACL",
            lambda c: c.list_resources_for_web_acl(
                WebACLArn=acl["arn"], ResourceType="APPLICATION_LOAD_BALANCER"
            ),
        ),
        (
            "cloudwatch",
            "GetMetricData",
            lambda c: c.get_metric_data(
                MetricDataQueries=[
                    {"Id": "m", "MetricStat": {"Metric": metric, "Period": 60, "Stat": "Average"}}
                ],
                StartTime=hour_ago,
                EndTime=now,
            ),
        ),
        (
            "cloudwatch",
            "GetMetricStatistics",
            lambda c: c.get_metric_statistics(
                **metric, StartTime=hour_ago, EndTime=now, Period=300, Statistics=["Average"]
            ),
        ),
        ("cloudwatch", "ListMetrics", lambda c: c.list_metrics(Namespace="AWS/VPN")),
        ("cloudwatch", "DescribeAlarms", lambda c: c.describe_alarms()),
        ("backup", "ListBackupPlans", lambda c: c.list_backup_plans()),
        ("backup", "GetBackupPlan", lambda c: c.get_backup_plan(BackupPlanId=plan)),
        ("backup", "ListBackupSelections", lambda c: c.list_backup_selections(BackupPlanId=plan)),
        ("backup", "ListBackupJobs", lambda c: c.list_backup_jobs()),
        (
            "backup",
            "ListRecoveryPointsByResource",
            lambda c: c.list_recovery_points_by_resource(ResourceArn=out["aurora"]["arn"]),
        ),
        ("backup", "ListBackupVaults", lambda c: c.list_backup_vaults()),
        ("sts", "GetCallerIdentity", lambda c: c.get_caller_identity()),
        (
            "rds",
            "DescribeDBLogFiles",
            lambda c: c.describe_db_log_files(DBInstanceIdentifier=WRITER),
        ),
        (
            "rds",
            "DownloadDBLogFilePortion",
            lambda c: c.download_db_log_file_portion(
                DBInstanceIdentifier=WRITER, LogFileName=f"error/{ENGINE}.log"
            ),
        ),
        ("logs", "DescribeLogGroups", lambda c: c.describe_log_groups()),
        (
            "logs",
            "DescribeLogStreams",
            lambda c: c.describe_log_streams(logGroupName=lablogs.PHOENIX_LOG_GROUP),
        ),
        (
            "logs",
            "FilterLogEvents",
            lambda c: c.filter_log_events(logGroupName=lablogs.PHOENIX_LOG_GROUP, limit=1),
        ),
        (
            "logs",
            "FilterLogEvents by logGroupIdentifier",
            lambda c: c.filter_log_events(logGroupIdentifier=lablogs.PHOENIX_LOG_GROUP, limit=1),
        ),
        (
            "logs",
            "GetLogEvents",
            lambda c: c.get_log_events(
                logGroupName=lablogs.PHOENIX_LOG_GROUP, logStreamName=iid, limit=1
            ),
        ),
    ]
    result: dict[str, dict[str, str]] = {"moto": {}, "ministack": {}}
    clients: dict[tuple, object] = {}
    for emulator, url in (("moto", lab.moto), ("ministack", lab.ministack)):
        for service, op, call in calls:
            key = (service, url)
            if key not in clients:
                clients[key] = lab.client(service, endpoint=url, retries=1)
            _last_status["status"] = None
            try:
                call(clients[key])
                answer = "ok"
            except Exception as e:
                answer = _err(e)
            result[emulator][f"{service}:{op}"] = answer
    return result


def ensure_db_secret(lab: Lab) -> str | None:
    """The secret DB_SECRET in moto holds the lab database's application user and password
    (JSON {"username", "password"}): created, or given a new value, when it does not. Returns
    its ARN; None (and nothing done) without a password file."""
    path = os.path.join(lab.state, "db-password")
    try:
        with open(path) as f:
            password = f.read().strip()
    except FileNotFoundError:
        log(f"no {path}: no database secret")
        return None
    want = {"username": DB_USER, "password": password}
    sm = lab.client("secretsmanager")
    try:
        got = sm.get_secret_value(SecretId=DB_SECRET)
    except botocore.exceptions.ClientError as e:
        if e.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
            raise
        arn = sm.create_secret(
            Name=DB_SECRET,
            Description="QualityPost Aurora: the qpconsole user (the lab's MariaDB)",
            SecretString=json.dumps(want),
            Tags=_tags(Estate="qualitypost"),
        )["ARN"]
        log(f"created secret {DB_SECRET}")
        return arn
    try:
        same = json.loads(got.get("SecretString") or "") == want
    except ValueError:
        same = False
    if not same:
        sm.put_secret_value(SecretId=DB_SECRET, SecretString=json.dumps(want))
        log(f"updated secret {DB_SECRET}")
    return got["ARN"]


# --------------------------------------------------------------------------------------------


def seed(lab: Lab) -> dict:
    t0 = time.monotonic()
    lab.post(f"{lab.moto}/moto-api/reset")
    lab.post(f"{lab.ministack}/_ministack/reset")
    out: dict = {
        "format": SEED_FORMAT,
        "seeded_at": _iso(dt.datetime.now(dt.timezone.utc)),
        "region": REGION,
        "account_id": ACCOUNT,
        "emulators": {
            "moto": {
                "port": lab.moto_port,
                "endpoint": lab.moto,
                "pid": lab.pids["moto"],
                "version": _version("moto"),
            },
            "ministack": {
                "port": lab.ministack_port,
                "endpoint": lab.ministack,
                "pid": lab.pids["ministack"],
                "version": _version("ministack"),
            },
        },
        "endpoints": dict(lab.routes),
    }
    net = seed_network(lab, out)
    groups = seed_security_groups(lab, out, net)
    seed_aurora(lab, out, net, groups)
    seed_rds_instance(lab, out)
    seed_phoenix(lab, out, net, groups)
    seed_bastion(lab, out, net, groups)
    seed_waf(lab, out)
    check_layers(lab, out)
    seed_vpn(lab, out, net)
    seed_backup(lab, out)
    seed_dms(lab, out)
    seed_sts(lab, out)
    out["db_secret_name"] = DB_SECRET
    out["db_secret_arn"] = ensure_db_secret(lab)
    seed_metrics(lab, out)
    seed_logs(lab, out)
    write_instance_logs(lab, out)
    out["calls"] = probe_calls(lab, out)
    out["seconds"] = round(time.monotonic() - t0, 2)
    return out


def _version(dist: str) -> str | None:
    try:
        from importlib.metadata import version

        return version(dist)
    except Exception:
        return None


def still_seeded(lab: Lab, path: str) -> str | None:
    """None when seed.json describes the running emulators' state, else why not."""
    try:
        with open(path) as f:
            old = json.load(f)
    except (OSError, ValueError):
        return "no seed.json"
    if old.get("format") != SEED_FORMAT:
        return "seed.json has another format"
    for name, port in (("moto", lab.moto_port), ("ministack", lab.ministack_port)):
        e = old.get("emulators", {}).get(name, {})
        if e.get("pid") != lab.pids[name] or e.get("port") != port:
            return f"{name} is not the process seed.json was written for"
    # The processes are the same; check their state was not reset meanwhile.
    try:
        c = lab.client("rds", retries=1).describe_db_clusters(DBClusterIdentifier=CLUSTER)
        if not c["DBClusters"]:
            return "moto lost the cluster"
        plans = lab.client("backup", retries=1).list_backup_plans()["BackupPlansList"]
        if not any(p["BackupPlanId"] == old["backup"]["plan"]["id"] for p in plans):
            return "ministack lost the backup plan"
        groups = lab.client("logs", retries=1).describe_log_groups(
            logGroupNamePrefix=old["logs"]["phoenix_group"]
        )["logGroups"]
        if not any(g["logGroupName"] == old["logs"]["phoenix_group"] for g in groups):
            return "moto lost the Phoenix log group"
    except Exception as e:
        return f"state check failed: {_err(e)}"
    return None


def main() -> int:
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--if-needed", action="store_true", help="seed only when not yet seeded")
    ap.add_argument("--state", default=os.path.join(here, "state"))
    args = ap.parse_args()
    lab = Lab(args.state)
    path = os.path.join(args.state, "seed.json")
    if args.if_needed:
        why = still_seeded(lab, path)
        if why is None:
            # The secret is not part of what still_seeded checks: put it right here.
            with open(path) as f:
                out = json.load(f)
            arn = ensure_db_secret(lab)
            changed = write_instance_logs(lab, out, only_missing=True)
            if out.get("db_secret_arn") != arn or out.get("db_secret_name") != DB_SECRET:
                out["db_secret_name"], out["db_secret_arn"] = DB_SECRET, arn
                changed = True
            if changed:
                write_seed(path, out)
            log("already seeded")
            return 0
        log(f"seeding ({why})")
    out = seed(lab)
    write_seed(path, out)
    log(f"seeded in {out['seconds']} s: {path}")
    return 0


def write_seed(path: str, out: dict) -> None:
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(out, f, indent=2, sort_keys=False)
        f.write("\n")
    os.replace(tmp, path)


if __name__ == "__main__":
    sys.exit(main())
