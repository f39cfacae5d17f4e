"""The follower graph: heavy-tailed in-degree, edge-list input, and its errors."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import tightrope
from tightrope.cli.app import main
from tightrope.core.world import per_kind
from tightrope.errors import InputError
from tightrope.model.network import read_edge_list, synthetic
from tightrope.scenario import edge_lists
from tightrope.scenario.content import KINDS
from tightrope.scenario.edge_lists import edge_list_info
from tightrope.scenario.schema import KindPopularity


def test_synthetic_in_degree_is_heavy_tailed():
    n = 20_000
    rng = np.random.default_rng(1)
    g = synthetic(n, 30.0, 2.1, np.ones(n), 0.2, 8, rng)
    in_degree = np.diff(g.followers_ptr)
    assert in_degree.max() > 50 * in_degree.mean()  # a few accounts with huge audiences
    assert np.median(in_degree) < in_degree.mean()  # most with few
    # CSR rows are sorted and free of self-follows and repeats
    for u in range(0, n, 997):
        row = g.followers_idx[g.followers_ptr[u] : g.followers_ptr[u + 1]]
        assert np.all(np.diff(row) > 0)
        assert u not in row
    assert sorted(g.circle_members.tolist()) == list(range(n))


@pytest.mark.parametrize(("n", "seed"), [(2_000, 1), (20_000, 1), (20_000, 7)])
def test_users_follow_as_many_accounts_as_set_and_no_account_holds_everyone(n, seed):
    """Follows are drawn without replacement, so the realised mean is the setting, and the
    largest weights are capped, so no account is followed by more than about the share."""
    kinds = np.random.default_rng(seed).choice(
        8, n, p=[0.9, 0.02, 0.01, 0.01, 0.03, 0.01, 0.01, 0.01]
    )
    boost = per_kind(KindPopularity())[kinds]
    g = synthetic(n, 40.0, 2.1, boost, 0.2, 8, np.random.default_rng(seed))
    in_degree = np.diff(g.followers_ptr)
    assert abs(g.followers_idx.size / n - 40.0) < 0.5  # Poisson(40) per user, all distinct
    assert in_degree.max() < 0.25 * n
    assert in_degree.max() > 0.1 * n  # the cap binds: the tail reaches it


def test_edge_list_defines_the_users_and_runs(tmp_path):
    f = tmp_path / "edges.txt"
    lines = ["# follower followee"] + [f"{i} {(i * 7 + 1) % 300}" for i in range(300)]
    lines += [f"{i},{(i + 3) % 300}" for i in range(0, 300, 2)]
    f.write_text("\n".join(lines) + "\n")
    g = read_edge_list(f, 5, np.random.default_rng(0))
    assert g.n == 300
    assert g.followers_idx.size == 300 + 150
    sc = tightrope.load_scenario(
        "eu-dsa", ["network.source='edge_list'", f"network.edge_list='{f}'"], days=1, seed=2
    )
    result = tightrope.run(sc)
    assert result.meta["users"] == 300
    assert result.meta["edges"] == 450


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "{f} has no edges"),
        ("# only a comment\n\n", "{f} has no edges"),
        ("0 1\n1 2 3\n", "{f}, line 2: need 2 ids (follower followee), found 3: '1 2 3'"),
        ("0 1\n7\n", "{f}, line 2: need 2 ids (follower followee), found 1: '7'"),
        ("# ids\n1 -2\n", "{f}, line 2: negative id -2; ids must be 0 or more"),
        ("a b\n", "{f}, line 1: 'a' is not a whole-number id: 'a b'"),
        ("0 1\n1.5 2\n", "{f}, line 2: '1.5' is not a whole-number id: '1.5 2'"),
        ("0 2147483647\n",
         "{f}, line 1: id 2147483647 is too large; ids must be at most 2147483646"),
        ("0 1\n\xff 2\n", "{f}, line 2: not UTF-8 text"),
        ("3 3\n", "{f} has no usable edge: its one edge is a self-loop (follower = followee); "
         "self-loops are dropped"),
        ("1 1\n2 2\n4 4\n", "{f} has no usable edge: all 3 are self-loops (follower = followee); "
         "self-loops are dropped"),
    ],
)  # fmt: skip
def test_bad_edge_lists_are_refused(tmp_path, text, message):
    f = tmp_path / "bad.txt"
    f.write_bytes(text.encode("latin-1"))
    expected = "network.edge_list: " + message.format(f=f)
    for check in (
        lambda: read_edge_list(f, 5, np.random.default_rng(0)),
        lambda: edge_list_info(f),
    ):
        with pytest.raises(InputError) as err:
            check()
        assert str(err.value) == expected


def test_edge_lists_are_read_in_pieces_with_the_same_graph_and_line_numbers(tmp_path, monkeypatch):
    f = tmp_path / "edges.txt"
    lines = ["# follower followee"] + [f"{i} {(i * 7 + 1) % 50}" for i in range(50)]
    f.write_text("\n".join(lines))  # no newline at the end
    whole = read_edge_list(f, 5, np.random.default_rng(0))
    monkeypatch.setattr(edge_lists, "CHUNK_BYTES", 16)  # a few lines a piece
    edge_lists._edge_list_info.cache_clear()
    pieces = read_edge_list(f, 5, np.random.default_rng(0))
    for a, b in zip(whole, pieces, strict=True):
        assert np.array_equal(a, b)
    assert edge_list_info(f) == (50, 50, 0)
    f.write_text("\n".join([*lines[:40], "3 x", *lines[40:]]))
    with pytest.raises(InputError) as err:
        edge_list_info(f)
    assert str(err.value) == f"network.edge_list: {f}, line 41: 'x' is not a whole-number id: '3 x'"


def test_missing_edge_list_is_refused(tmp_path):
    with pytest.raises(InputError) as err:
        read_edge_list(tmp_path / "none.txt", 5, np.random.default_rng(0))
    assert str(err.value) == f"network.edge_list: file not found: {tmp_path / 'none.txt'}"
    with pytest.raises(InputError) as err:
        read_edge_list(tmp_path, 5, np.random.default_rng(0))
    assert str(err.value) == f"network.edge_list: {tmp_path} is a folder, not an edge-list file"


# ---------------------------------------------------------------- issue 17, item 6
# An edge list is checked by load_scenario (validate, run, compare, experiments), relative
# to the scenario file's folder, and its network sets the run's size everywhere.

EDGE_FILE = 'extends = "eu-dsa"\n[network]\nsource = "edge_list"\nedge_list = "{path}"\n'


def invoke(*args: object):
    return CliRunner().invoke(main, [str(a) for a in args])


def edge_scenario(tmp_path: Path, edges: str, path: str = "edges.txt") -> Path:
    folder = tmp_path / "scenarios"
    folder.mkdir(exist_ok=True)
    (folder / "edges.txt").write_bytes(edges.encode("latin-1"))
    scenario = folder / "net.toml"
    scenario.write_text(EDGE_FILE.format(path=path))
    return scenario


def test_edge_list_is_relative_to_the_scenario_file_and_sets_the_users(tmp_path, monkeypatch):
    scenario = edge_scenario(tmp_path, "# five users\n0 1\n1 2\n2 3\n3 4\n4 4\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # the path is not looked up from the current folder
    sc = tightrope.load_scenario(scenario)
    assert sc.network.edge_list == str(scenario.parent / "edges.txt")
    assert sc.run.users == 5  # the largest id + 1, not the preset's 10,000
    assert tightrope.load_scenario(scenario, users=5).run.users == 5  # agreeing is fine
    # the size everywhere: the run's meta, the banner's --json, the stored run
    result = invoke("run", scenario, "--days", "1", "--json", "--out", tmp_path / "out")
    assert result.exit_code == 0, result.output
    head = json.loads(result.stdout[: result.stdout.rindex("}") + 1])
    assert head["users"] == 5
    manifest = json.loads(next((tmp_path / "out").glob("runs/*/manifest.json")).read_text())
    assert manifest["config"]["run"]["users"] == 5
    # from --set (or a preset) the path is the current folder's
    monkeypatch.chdir(scenario.parent)
    sc = tightrope.load_scenario(
        "eu-dsa", ["network.source='edge_list'", "network.edge_list='edges.txt'"]
    )
    assert (sc.network.edge_list, sc.run.users) == ("edges.txt", 5)


def test_users_that_disagree_with_the_edge_list_are_refused(tmp_path):
    scenario = edge_scenario(tmp_path, "0 1\n1 2\n2 3\n3 4\n")
    path = scenario.parent / "edges.txt"
    line = (
        f"run.users: --users asks for 10000 users, but the edge list {path} has 5 (its "
        "largest id + 1); with network.source = 'edge_list' the network sets the number of "
        "users: leave out --users or give 5"
    )
    with pytest.raises(InputError) as err:
        tightrope.load_scenario(scenario, users=10_000)
    assert err.value.problems == [line]
    assert err.value.what == f"{scenario} is not valid"
    with pytest.raises(InputError) as err:
        tightrope.load_scenario(scenario, ["run.users=7"])
    assert err.value.problems == [line.replace("--users", "--set run.users").replace("10000", "7")]
    out = tmp_path / "out"
    result = invoke("run", scenario, "--users", "10000", "--days", "1", "--out", out)
    assert result.exit_code == 2
    assert result.output == f"error: {scenario} is not valid:\n  - {line}\n"
    assert not out.exists()


@pytest.mark.parametrize(
    ("edges", "message"),
    [
        ("3 3\n1 1\n", "{f} has no usable edge: all 2 are self-loops (follower = followee); "
         "self-loops are dropped"),
        ("", "{f} has no edges"),
        ("0 1\n-1 2\n", "{f}, line 2: negative id -1; ids must be 0 or more"),
        ("0 1\n1 2 3\n", "{f}, line 2: need 2 ids (follower followee), found 3: '1 2 3'"),
    ],
)  # fmt: skip
def test_validate_and_run_check_the_edge_list(tmp_path, edges, message):
    scenario = edge_scenario(tmp_path, edges)
    line = "network.edge_list: " + message.format(f=scenario.parent / "edges.txt")
    with pytest.raises(InputError) as err:
        tightrope.load_scenario(scenario)
    assert err.value.problems == [line]
    result = invoke("validate", scenario)
    assert result.exit_code == 2
    assert result.output == f"error: {scenario} is not valid:\n  - {line}\n"
    out = tmp_path / "out"
    result = invoke("run", scenario, "--days", "1", "--out", out)
    assert (result.exit_code, result.output) == (
        2,
        f"error: {scenario} is not valid:\n  - {line}\n",
    )
    assert not out.exists()


def test_missing_or_folder_edge_list_is_refused_by_validate(tmp_path):
    scenario = edge_scenario(tmp_path, "0 1\n", path="nowhere.txt")
    missing = scenario.parent / "nowhere.txt"
    result = invoke("validate", scenario)
    assert (result.exit_code, result.output) == (
        2,
        f"error: {scenario} is not valid:\n  - network.edge_list: file not found: {missing}\n",
    )
    scenario.write_text(EDGE_FILE.format(path="."))
    folder = scenario.parent / "."
    with pytest.raises(InputError) as err:
        tightrope.load_scenario(scenario)
    assert err.value.problems == [f"network.edge_list: {folder} is a folder, not an edge-list file"]


def test_edge_list_problems_are_listed_with_the_others(tmp_path):
    scenario = edge_scenario(tmp_path, "2 2\n")
    with pytest.raises(InputError) as err:
        tightrope.load_scenario(scenario, ["state.identity.real_name=2"])
    assert err.value.problems == [
        "state.identity.real_name: Input should be less than or equal to 1 (got 2)",
        f"network.edge_list: {scenario.parent / 'edges.txt'} has no usable edge: its one edge "
        "is a self-loop (follower = followee); self-loops are dropped",
    ]


def test_an_edge_list_is_read_once_per_load_and_a_synthetic_network_not_at_all(
    tmp_path, monkeypatch
):
    scenario = edge_scenario(tmp_path, "0 1\n1 2\n")
    reads = []
    real = edge_lists.edge_chunks
    monkeypatch.setattr(edge_lists, "edge_chunks", lambda p: reads.append(p) or real(p))
    edge_lists._edge_list_info.cache_clear()
    tightrope.load_scenario(scenario, ["run.seed=3"], days=1)  # overrides: validated twice
    assert len(reads) == 1
    tightrope.load_scenario(scenario, seed=4)  # the same file, unchanged: not read again
    assert len(reads) == 1
    (scenario.parent / "edges.txt").write_text("0 1\n1 2\n2 3\n")  # changed: read again
    assert tightrope.load_scenario(scenario).run.users == 4
    assert len(reads) == 2
    tightrope.load_scenario("eu-dsa", ["run.seed=3"], users=100, days=1)
    assert len(reads) == 2


def test_synthetic_scenarios_keep_their_users_and_config():
    sc = tightrope.load_scenario("eu-dsa", users=1234, days=1)
    assert sc.run.users == 1234
    assert sc.network.edge_list == ""


# -- the structured generator in runs, network statistics, node attributes ------------------


def test_runs_use_the_structured_graph_and_keep_its_statistics(tmp_path):
    """The default generator is the structured one; each run computes its graph's
    statistics and keeps them in its meta, its manifest and the report."""
    sc = tightrope.load_scenario("eu-dsa", users=3000, days=1, seed=4)
    assert sc.network.generator == "structured"
    result = tightrope.run(sc)
    net = result.meta["network"]
    assert net["users"] == 3000
    assert net["edges"] == result.meta["edges"]
    assert 0.15 < net["reciprocity"] < 0.35  # the independent generator gives about 0.004
    assert net["average_clustering"] > 0.05
    assert net["communities"] > 10
    out = tmp_path / "out"
    assert CliRunner().invoke(main, ["run", "eu-dsa", "--users", "3000", "--days", "1",
                                     "--seed", "4", "--out", str(out)]).exit_code == 0  # fmt: skip
    manifest = json.loads(next(out.glob("runs/*/manifest.json")).read_text())
    assert manifest["network"] == net
    page = (out / "report.html").read_text()
    assert "The follower network" in page
    assert "reciprocity (share of follows returned)" in page


def test_the_independent_generator_is_kept_for_comparison():
    sc = tightrope.load_scenario(
        "eu-dsa", ["network.generator='independent'"], users=3000, days=1, seed=4
    )
    result = tightrope.run(sc)
    assert result.meta["network"]["reciprocity"] < 0.02
    assert "communities" not in result.meta["network"]  # no communities drawn


def test_network_settings_are_validated():
    with pytest.raises(InputError, match=re.escape("community_share + region_share is 1.2")):
        tightrope.load_scenario(
            "eu-dsa", ["network.community_share=0.7", "network.region_share=0.5"], users=100
        )
    with pytest.raises(InputError, match=re.escape("community_min_size (50) is larger")):
        tightrope.load_scenario(
            "eu-dsa", ["network.community_min_size=50", "network.community_max_size=30"]
        )
    with pytest.raises(InputError, match="node_attributes is for an edge list"):
        tightrope.load_scenario("eu-dsa", ["network.node_attributes='x.csv'"], users=100)


def test_regions_of_the_structured_graph_follow_their_shares():
    sc = tightrope.load_scenario("eu-dsa", ["network.regions=[3, 1]"], users=4000, seed=2)
    sim = tightrope.Simulation(sc)
    assert np.bincount(sim.region).tolist() == [3000, 1000]
    assert sim.network["region_sizes"] == [3000, 1000]


def _edges(tmp_path: Path, n: int = 40) -> Path:
    f = tmp_path / "edges.txt"
    f.write_text("".join(f"{i} {(i + 1) % n}\n{i} {(i + 5) % n}\n" for i in range(n)))
    return f


def test_node_attributes_give_kinds_regions_and_platforms(tmp_path):
    edges = _edges(tmp_path)
    table = tmp_path / "nodes.csv"
    table.write_text(
        "id,kind,region,platforms\n0,official,2,microblog\n1,media_accredited,1,\n"
        "5,bad_actor,0,microblog;foreign\n"
    )
    sets = ["network.source='edge_list'", f"network.edge_list='{edges}'",
            f"network.node_attributes='{table}'"]  # fmt: skip
    sc = tightrope.load_scenario("eu-dsa", sets, seed=1)
    names = sc.platform_names()
    assert {"microblog", "foreign"} <= set(names)
    sim = tightrope.Simulation(sc)
    assert KINDS[sim.people.kind[0]] == "official"
    assert KINDS[sim.people.kind[1]] == "media_accredited"
    assert KINDS[sim.people.kind[5]] == "bad_actor"
    assert sim.region[0] == 2
    assert sim.region[1] == 1
    assert sim.region[3] == 0
    assert sim.people.member[0] == 1 << names.index("microblog")
    assert sim.people.member[1] == 0
    both = (1 << names.index("microblog")) | (1 << names.index("foreign"))
    assert sim.people.member[5] == both


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("id,colour\n0,red\n", "unknown column 'colour' (allowed: id, kind, region, platforms)"),
        ("kind\nofficial\n", "no 'id' column (the header must name it)"),
        ("id,kind\n", "the table has no rows"),
        ("id,kind\n0,official\nx,official\n", "line 3: id 'x' is not a whole number"),
        ("id\n40\n", "line 2: id 40 is not a user of the edge list (ids 0 to 39)"),
        ("id\n3\n7\n3\n", "line 4: id 3 is listed twice"),
        ("id,kind\n0,robot\n", "line 2: kind 'robot' is not a kind of account (allowed: ordinary"),
        ("id,region\n0,-1\n", "line 2: region '-1' is not a whole number from 0 to 63"),
        ("id,platforms\n0,tiktok\n", "line 2: platform 'tiktok' is not defined in the scenario"),
    ],
)
def test_bad_node_attributes_are_refused_with_the_line(tmp_path, text, message):
    edges = _edges(tmp_path)
    table = tmp_path / "nodes.csv"
    table.write_text(text)
    sets = ["network.source='edge_list'", f"network.edge_list='{edges}'",
            f"network.node_attributes='{table}'"]  # fmt: skip
    with pytest.raises(InputError) as err:
        tightrope.load_scenario("eu-dsa", sets)
    assert f"node attributes {table}: " in str(err.value) or f"node attributes {table}," in str(
        err.value
    )
    assert message in str(err.value)


def test_a_missing_node_attribute_table_is_refused_by_validate(tmp_path):
    _edges(tmp_path)
    scenario = tmp_path / "s.toml"
    scenario.write_text(
        'extends = "eu-dsa"\n[network]\nsource = "edge_list"\nedge_list = "edges.txt"\n'
        'node_attributes = "nodes.csv"\n'
    )
    result = CliRunner().invoke(main, ["validate", str(scenario)])
    assert result.exit_code == 2
    assert f"node attributes {tmp_path / 'nodes.csv'}: no such file" in result.output
