"""The lab's ministack, with the console's requests recorded: each action the console asks
is written to lab/state/aws-actions-ministack.log (lab/iam.py), for the check that README's
IAM policies grant it. Nothing else about ministack is changed; it is configured by its
environment as before (lab/up)."""

import sys

sys.dont_write_bytecode = True  # no lab/__pycache__ in the tree

import iam  # noqa: E402
from ministack import app as ministack  # noqa: E402

# main() serves the module's `app`: the recording one from here on.
ministack.app = iam.Recorder("ministack").asgi(ministack.app)

if __name__ == "__main__":
    sys.exit(ministack.main())
