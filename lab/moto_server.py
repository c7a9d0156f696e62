"""The lab's moto: moto_server, with one of its answers put right, and the console's requests
recorded.

moto 5.2.5 writes DMS replication tasks' dates as ISO strings ("2026-12-02T01:14:35.887271");
DMS speaks the awsJson1_1 protocol, whose timestamps are epoch seconds, as real DMS sends
them. boto3 reads either; the Rust SDK, rightly, only the protocol's. The dates are turned
into epoch seconds here.

Each action the console asks is written to lab/state/aws-actions-moto.log (lab/iam.py), for
the check that README's IAM policies grant it. Nothing else about moto is changed.
"""

import datetime as dt
import sys

sys.dont_write_bytecode = True  # no lab/__pycache__ in the tree

import iam  # noqa: E402
from moto.dms import models  # noqa: E402
from moto.moto_server.werkzeug_app import DomainDispatcherApplication  # noqa: E402
from moto.server import main  # noqa: E402

_task_dict = models.FakeReplicationTask.to_dict


def _epoch(value):
    if not isinstance(value, str):
        return value
    t = dt.datetime.fromisoformat(value)
    if t.tzinfo is None:
        t = t.replace(tzinfo=dt.timezone.utc)
    return t.timestamp()


def _dates_as_epoch(d: dict) -> dict:
    return {k: _epoch(v) if k.endswith("Date") else v for k, v in d.items()}


def _task_to_dict(self) -> dict:
    d = _dates_as_epoch(_task_dict(self))
    if isinstance(d.get("ReplicationTaskStats"), dict):
        d["ReplicationTaskStats"] = _dates_as_epoch(d["ReplicationTaskStats"])
    return d


models.FakeReplicationTask.to_dict = _task_to_dict

_recorder = iam.Recorder("moto")
_dispatch = DomainDispatcherApplication.__call__


def _recorded(self, environ, start_response):
    _recorder.wsgi(environ)
    return _dispatch(self, environ, start_response)


DomainDispatcherApplication.__call__ = _recorded

if __name__ == "__main__":
    main(sys.argv[1:])
