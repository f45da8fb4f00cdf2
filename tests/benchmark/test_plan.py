"""segrepro plan: a selection expanded into run specs (dvc.yaml's matrix, same ids and order), each with
its record's state; plan files from another version, or tampered, are refused in one line."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from segrepro.baselines import get_baseline
from segrepro.cli import main
from segrepro.plan import PLAN_FORMAT, Selection, plan_lines, read_plan, selection_from_params
from segrepro.runspec import RunSpec

ROOT = Path(__file__).resolve().parents[2]


def write_record(workdir: Path, spec: RunSpec, **fields) -> None:
    runs = workdir / "results" / "runs"
    runs.mkdir(parents=True, exist_ok=True)
    (runs / f"{spec.run_id}.json").write_text(json.dumps({"run_id": spec.run_id, **fields}))


def test_plan_states_follow_the_records(prepared_2d, workdir):
    sel = Selection(("synthetic-2d",), ("unet-ce",), folds=(0,), seeds=(0, 1, 2, 3))
    current = get_baseline("unet-ce").recipe("smoke").hash()
    specs = sel.specs()
    write_record(workdir, specs[0], status="ok", recipe_hash=current)
    write_record(workdir, specs[1], status="failed", recipe_hash=current)
    write_record(workdir, specs[2], status="ok", recipe_hash="0" * 16)
    lines = list(plan_lines(sel))
    assert [line["state"] for line in lines] == ["done", "failed", "stale", "to do"]
    assert [line["run_id"] for line in lines] == [s.run_id for s in specs]
    assert all(line["plan_format"] == PLAN_FORMAT for line in lines)


def test_plan_cli_reads_params_and_flags_replace_its_keys(prepared_2d, workdir, capsys):
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    params.update(datasets=["synthetic-2d"], baselines=["unet-ce", "unet-dicece"], seeds=[0, 1])
    (workdir / "params.yaml").write_text(yaml.safe_dump(params))
    assert main(["plan", "--out", "plan.jsonl"]) == 0
    assert len(read_plan(workdir / "plan.jsonl")) == 4
    assert main(["plan", "--seeds", "5", "--tier", "quick"]) == 0
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines() if x.startswith("{")]
    assert [x["run_id"] for x in lines] == [
        "synthetic-2d__unet-ce__quick__f0__s5",
        "synthetic-2d__unet-dicece__quick__f0__s5",
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["plan", "--datasets", "synthetic-2d", "--baselines", "unet-cee"], "unknown baseline 'unet-cee'"),
        (["plan", "--datasets", "nope", "--baselines", "unet-ce"], "unknown dataset 'nope'"),
        (["plan", "--datasets", "synthetic-2d", "--baselines", "unet-ce", "--seeds", "-1"], "--seed must be"),
        (["plan", "--datasets", "synthetic-2d"], "no params.yaml here"),
    ],
)
def test_bad_selection_is_one_line_error_and_writes_nothing(workdir, capsys, args, message):
    assert main([*args, "--out", "plan.jsonl"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]
    assert not (workdir / "plan.jsonl").exists()


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda line: {**line, "plan_format": PLAN_FORMAT + 1}, f"a plan of format {PLAN_FORMAT + 1}"),
        (lambda line: {k: v for k, v in line.items() if k != "plan_format"}, "a plan of format None"),
        (lambda line: {**line, "run_id": "synthetic-2d__unet-ce__smoke__0__0"}, "does not match its fields"),
        (lambda line: {k: v for k, v in line.items() if k != "seed"}, "has no 'seed'"),
    ],
)
def test_plan_from_another_version_or_edited_is_refused_before_any_run(prepared_2d, workdir, capsys, edit, message):
    sel = Selection(("synthetic-2d",), ("unet-ce",), seeds=(0, 1))
    good, other = plan_lines(sel)
    (workdir / "plan.jsonl").write_text(json.dumps(good) + "\n" + json.dumps(edit(other)) + "\n")
    assert main(["run-plan", "plan.jsonl", "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("segrepro: error: plan.jsonl:2: ") and message in err[0]
    assert not (workdir / "results").exists()  # not even the good first line ran


def test_dvc_matrix_and_plan_expand_params_yaml_alike(tmp_path):
    """dvc.yaml keeps its own ``matrix`` (DVC builds its stage graph, with literal output paths, from dvc.yaml
    and params.yaml before any command runs, so a stage list cannot come from a command): its run stages must
    be the plan's runs, in the plan's order, with the plan's run ids and arguments."""
    repo = tmp_path / "repo"
    repo.mkdir()
    shutil.copy(ROOT / "dvc.yaml", repo)
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    params.update(folds=[0, 2], seeds=[0, 7], baselines=["unet-ce", "unet-dicece"])
    (repo / "params.yaml").write_text(yaml.safe_dump(params))
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    subprocess.run([sys.executable, "-m", "dvc", "init", "-q"], cwd=repo, check=True)
    script = (
        "from dvc.repo import Repo\n"
        "for s in Repo('.').index.stages:\n"
        "    if s.name.startswith('run@'): print(s.outs[0].def_path, '|', s.cmd)\n"
    )
    listed = subprocess.run([sys.executable, "-c", script], cwd=repo, capture_output=True, text=True, check=True)
    stages = [line.split(" | ") for line in listed.stdout.strip().splitlines()]
    specs = selection_from_params(repo / "params.yaml").specs()
    assert len(stages) == len(specs) == 2 * 2 * 2 * 2
    for (out, cmd), spec in zip(stages, specs, strict=True):
        assert out == f"results/runs/{spec.run_id}.json"
        assert (
            f"--dataset {spec.dataset} --baseline {spec.baseline} --fold {spec.fold} --seed {spec.seed} "
            f"--tier {spec.tier}" in cmd
        )
