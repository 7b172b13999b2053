"""CloudTrail Detect's Python package: the code that bin/ scripts import.

It holds the Splunk protocol handling, option parsing, the loader that picks the native engine
(``_ctdetect``, built from native/) or the pure-Python fallback (``pyengine``), and nothing that
runs at import time beyond definitions: splunkd may start many command processes per search.
"""
