"""The baseline a Splunk developer would otherwise write: a splunklib StreamingCommand.

It parses each event's _raw with json.loads, flattens it the way spath names fields and runs
the same detections, all in Python (this app's pure-Python engine, splunk_app.pyengine, does
exactly that), and lets splunklib encode the reply. `make bench` drives it over protocol v2
exactly as it drives bin/cloudtraildetect.py. Needs splunk-sdk (PyPI), installed by the bench
into its own virtual environment; never shipped in the app.
"""
import os
import sys

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, REPO)

from splunklib.searchcommands import Configuration, StreamingCommand, dispatch  # noqa: E402

from splunk_app.pyengine import Engine  # noqa: E402

SEVERITY = ["informational", "low", "medium", "high", "critical"]


@Configuration()
class BaselineDetectCommand(StreamingCommand):
    engine = None

    def stream(self, records):
        if BaselineDetectCommand.engine is None:
            BaselineDetectCommand.engine = Engine([os.path.join(REPO, "default", "cloudtrail_detections.conf")],
                                                  os.path.join(REPO, "lookups"))
        engine = BaselineDetectCommand.engine
        for record in records:
            analysis = engine.analyze(record.get("_raw", ""))
            if analysis["error"]:
                record["cloudtrail_error"] = analysis["error"]
            for name, values in analysis["fields"]:
                if not name.startswith("_"):
                    record[name] = values[0] if len(values) == 1 else values
            if analysis["detections"]:
                record["detection"] = analysis["detections"]
            yield record


dispatch(BaselineDetectCommand, sys.argv, sys.stdin, sys.stdout, __name__)
