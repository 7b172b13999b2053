#!/usr/bin/env python3
"""Entry point of the `| cloudtraildetect` search command (protocol v2, chunked = true).

Thin on purpose: put the app folder (this file's parent's parent, wherever splunkd unpacked
it) on sys.path and hand the binary stdin/stdout to splunk_app.command.
"""
import os
import sys

APP_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if APP_ROOT not in sys.path:
    sys.path.insert(0, APP_ROOT)

from splunk_app.command import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(sys.stdin.buffer, sys.stdout.buffer))
