"""Calls an emulator with boto3: `call.py SERVICE OPERATION JSON-PARAMS`, printing the answer
as JSON. Tests and benchmarks change the lab with it behind the console's back; boto3 honours
the lab's per-service endpoint variables for every service."""

import json
import sys

import boto3

service, operation, params = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
print(json.dumps(getattr(boto3.client(service), operation)(**params), default=str))
