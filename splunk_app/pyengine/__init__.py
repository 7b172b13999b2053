"""The pure-Python fallback engine: the same behaviour as the native ``_ctdetect`` module.

``Engine`` is the only public name; see docs/engine-contract.md for the API and
README/cloudtrail_detections.conf.spec for the detection format. Python 3.9+, standard
library only.

Modules, one job each:

* ``conf``: Splunk .conf files -> stanzas (continuations, [default], local overrides);
* ``flatten``: one JSON record -> (field name, value, array coordinates) like ``spath``;
* ``matching``: numbers, ASCII case folding, wildcards;
* ``cidr``: addresses, CIDR ranges, the lookups of cidrlookup();
* ``condition``: the condition language (tokenizer, parser, AST evaluator);
* ``detections``: load, check and select detections;
* ``csvbody``: the protocol v2 CSV bodies;
* ``engine``: ``Engine``.

Each module's docstring lists the readings chosen where the contract leaves room.
"""
from .engine import Engine

__all__ = ["Engine"]
