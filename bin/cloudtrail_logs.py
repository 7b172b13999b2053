#!/usr/bin/env python3
"""Entry point of the `cloudtrail_logs://<name>` modular input (--scheme, --validate-arguments,
or a run with splunkd's XML configuration on stdin).

Thin on purpose: put the app folder (this file's parent's parent, wherever splunkd unpacked it)
on sys.path and hand over to splunk_app.modinput.run.
"""
import os
import sys

APP_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if APP_ROOT not in sys.path:
    sys.path.insert(0, APP_ROOT)

from splunk_app.modinput.run import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
