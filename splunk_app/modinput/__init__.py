"""The ``cloudtrail_logs://<name>`` modular input: CloudTrail log files to Splunk events.

Modules: ``scheme`` (the --scheme XML and the arguments' validation), ``splitter`` (the native
record splitter or its pure-Python twin ``pysplitter``), ``sources`` (a local folder tree, an S3
bucket), ``credentials`` (Splunk's storage/passwords), ``checkpoint`` (what is done, where the
current file stands), ``writer`` (the XML event stream) and ``run`` (the loop and the entry point
that bin/cloudtrail_logs.py calls). Nothing runs at import time.
"""
