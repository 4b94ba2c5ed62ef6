"""Parses Prometheus' text exposition format on stdin with the Prometheus
project's own Python client parser (Debian's python3-prometheus-client) and
prints the families and samples as JSON: {"families": [{"name", "type"}],
"samples": [{"family", "type", "name", "labels", "value"}]}.
A malformed exposition raises, and the test that runs this fails."""
import json
import sys

from prometheus_client.parser import text_string_to_metric_families

families, samples = [], []
for family in text_string_to_metric_families(sys.stdin.read()):
    families.append({"name": family.name, "type": family.type})
    for s in family.samples:
        samples.append({"family": family.name, "type": family.type, "name": s.name, "labels": s.labels,
                        "value": s.value})
json.dump({"families": families, "samples": samples}, sys.stdout)
