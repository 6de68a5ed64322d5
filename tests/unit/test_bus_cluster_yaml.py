"""cluster.yaml is a valid Ray cluster-launcher config and places agents by custom resources."""
from __future__ import annotations

import copy
import json
import pathlib
from importlib.util import find_spec

import jsonschema
import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]


def ray_schema() -> dict:
    """The schema that ships inside the installed ray package (read as a file: no ray import)."""
    ray_dir = pathlib.Path(find_spec("ray").origin).parent
    return json.loads((ray_dir / "autoscaler" / "ray-schema.json").read_text())


@pytest.fixture(scope="module")
def config() -> dict:
    return yaml.safe_load((ROOT / "cluster.yaml").read_text())


def test_cluster_yaml_matches_ray_schema(config):
    jsonschema.validate(config, ray_schema())


def test_schema_check_bites(config):
    broken = copy.deepcopy(config)
    broken["available_node_types"]["latm.tool_user"]["resources"]["tool_user"] = "eight"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, ray_schema())


def test_node_types_carry_the_placement_resources(config):
    types = config["available_node_types"]
    assert config["head_node_type"] in types
    by_resource = {name: kind for kind, spec in types.items() for name, n in spec["resources"].items() if n > 0}
    assert by_resource["maker"] != by_resource["tool_user"]
    assert by_resource["maker"] != config["head_node_type"]
    assert types[by_resource["maker"]]["max_workers"] == 1  # one maker: it serves every cache miss
