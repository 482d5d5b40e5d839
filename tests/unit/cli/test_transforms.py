"""`python -m core datasets join|filter` on a real SQLite workspace (in-process; one refusal in a real subprocess)."""

from __future__ import annotations

import json

from tests.support.cli import cli


def _show(cli, home, ref):
    done = cli(home, "datasets", "show", ref, "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_join_and_filter_make_new_versions_with_provenance(tmp_path, cli_here):
    cli = cli_here
    people = tmp_path / "people.csv"
    people.write_text("pid,age,embarked\n1,30,S\n2,41,C\n3,25,Q\n4,2,S\n", encoding="utf-8")
    cities = tmp_path / "cities.csv"
    cities.write_text("pid,city\n1,Lisbon\n2,Porto\n2,Braga\n", encoding="utf-8")
    for path, name in ((people, "people"), (cities, "cities")):
        assert cli(tmp_path, "datasets", "import", str(path), "--name", name).returncode == 0

    done = cli(tmp_path, "datasets", "join", "people@1", "cities", "--on", "pid", "--name", "pc")
    assert done.returncode == 0, done.stderr
    assert "as pc@1: 3 rows × 4 columns" in done.stdout
    assert "more than once on the right" in done.stderr  # the duplicate key is warned about
    left = cli(tmp_path, "datasets", "join", "people", "cities", "--on", "pid", "--how", "left", "--name", "pcl")
    assert left.returncode == 0 and "pcl@1: 5 rows" in left.stdout, left.stderr
    shown = _show(cli, tmp_path, "pcl")
    assert shown["provenance"]["source"] == "join"
    assert [i["name"] for i in shown["provenance"]["inputs"]] == ["people", "cities"]
    assert shown["provenance"]["spec"]["on"] == ["pid"] and shown["provenance"]["spec"]["how"] == "left"

    done = cli(tmp_path, "datasets", "filter", "people", "--where", "age>=3", "--where", "embarked in S,C",
               "--name", "adults")
    assert done.returncode == 0 and "adults@1: 2 of 4 rows" in done.stdout, done.stderr
    assert _show(cli, tmp_path, "adults")["provenance"]["spec"]["conditions"] == [
        {"column": "age", "op": ">=", "value": "3"}, {"column": "embarked", "op": "in", "value": ["S", "C"]}]
    # Same name as the source: its next version.
    again = cli(tmp_path, "datasets", "filter", "people", "--where", "embarked is not missing", "--drop", "age",
                "--name", "people")
    assert again.returncode == 0 and "people@2: 4 of 4 rows × 2 columns" in again.stdout, again.stderr
    assert "rows" in cli(tmp_path, "datasets", "show", "adults").stdout


def test_bad_joins_and_filters_exit_non_zero_with_one_message(tmp_path, cli_here):
    csv = tmp_path / "t.csv"
    csv.write_text("k,name\n1,a\n2,b\n", encoding="utf-8")
    assert cli_here(tmp_path, "datasets", "import", str(csv), "--name", "t").returncode == 0
    csv.write_text("k,v\nx,1\ny,2\n", encoding="utf-8")
    assert cli_here(tmp_path, "datasets", "import", str(csv), "--name", "u").returncode == 0
    cases = [
        (["join", "t", "u", "--on", "nope", "--name", "x"], "The left dataset has no column 'nope'"),
        (["join", "t", "u", "--on", "k", "--name", "x"], "integer values on the left and text values"),
        (["join", "t", "t@1", "--on", "k", "--name", "x", "--max-rows", "1"], "different versions"),
        (["join", "t", "missing", "--on", "k", "--name", "x"], "no dataset named 'missing'"),
        (["filter", "t", "--where", "k ~ 3", "--name", "x"], "Cannot read the condition 'k ~ 3'"),
        (["filter", "t", "--where", "k > abc", "--name", "x"], "'abc' is not a number"),
        (["filter", "t", "--where", "k > 9", "--name", "x"], "No row of t@1 meets the conditions"),
        (["filter", "t", "--name", "x"], "Nothing to do"),
        (["filter", "t", "--where", "k > 0", "--name", "u"], "already exists"),
    ]
    for i, (args, message) in enumerate(cases):
        done = (cli if i == 0 else cli_here)(tmp_path, "datasets", *args)  # the first as a terminal sees it
        assert done.returncode != 0 and message in done.stderr and "Traceback" not in done.stderr, (args, done.stderr)
    listed = cli_here(tmp_path, "datasets", "list", "--json")
    assert sorted(r["name"] for r in json.loads(listed.stdout)) == ["t", "u"]
