"""Parses a Prometheus text exposition (stdin) with the reference parser
(prometheus_client.parser) and prints its families as JSON:
[{"name", "type", "samples": [[name, labels, value], ...]}, ...]."""
import json
import sys

from prometheus_client.parser import text_string_to_metric_families

families = []
for f in text_string_to_metric_families(sys.stdin.read()):
    families.append({
        "name": f.name,
        "type": f.type,
        "samples": [[s.name, s.labels, s.value] for s in f.samples],
    })
print(json.dumps(families))
