"""The commands of issue 16, kept beside cli.py (which only registers them): ``plan``, ``run-plan`` and
``dvc-views`` (the files ``dvc metrics show`` and ``dvc plots show`` read)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from segrepro import paths
from segrepro.cli import add_int_list
from segrepro.errors import UserError
from segrepro.tiers import TIERS

if TYPE_CHECKING:
    from segrepro.plan import Selection


def _selection(args: argparse.Namespace) -> Selection:
    """``--params`` (or ./params.yaml), with the flags given replacing its keys; or the flags alone."""
    from segrepro.plan import Selection, selection_from_params

    if args.params is not None:
        base = selection_from_params(args.params)
    elif args.datasets is not None and args.baselines is not None:
        base = Selection(tuple(args.datasets), tuple(args.baselines))
    elif Path("params.yaml").is_file():
        base = selection_from_params(Path("params.yaml"))
    else:
        raise UserError("no params.yaml here: give --params FILE, or --datasets and --baselines")
    return Selection(
        tuple(args.datasets) if args.datasets is not None else base.datasets,
        tuple(args.baselines) if args.baselines is not None else base.baselines,
        tuple(args.folds) if args.folds is not None else base.folds,
        tuple(args.seeds) if args.seeds is not None else base.seeds,
        args.tier if args.tier is not None else base.tier,
    )


def _plan(args: argparse.Namespace) -> int:
    from collections import Counter

    from segrepro.io import write_text_atomic
    from segrepro.plan import STATES, format_plan, plan_lines

    lines = list(plan_lines(_selection(args)))
    text = format_plan(lines)
    counts = Counter(line["state"] for line in lines)
    tally = ", ".join(f"{counts[s]} {s}" for s in STATES)
    if args.out is None:
        sys.stdout.write(text)
        print(f"{len(lines)} runs: {tally}", file=sys.stderr)
    else:
        write_text_atomic(args.out, text)
        print(f"wrote {args.out}: {len(lines)} runs ({tally})")
    return 0


def _run_plan(args: argparse.Namespace) -> int:
    from segrepro.executors import (
        SlurmOptions,
        Tally,
        run_local,
        run_ray,
        run_slurm,
        sbatch_preview,
        summary,
        write_outcomes,
    )
    from segrepro.plan import read_plan
    from segrepro.runspec import check_dataset_name

    specs = read_plan(args.plan)
    if args.threads is not None and args.threads < 1:
        raise UserError(f"--threads must be 1 or more, not {args.threads}")
    for name in sorted({s.dataset for s in specs}):  # an unprepared dataset: one line here, not one per run
        check_dataset_name(name)
        if not (paths.prepared_dir(name) / "meta.json").exists():
            raise UserError(f"dataset {name} is not prepared; run: segrepro datasets prepare {name}")
    slurm = SlurmOptions(
        partition=args.partition,
        gpus=args.gpus,
        time_min=args.time,
        mem_gb=args.mem,
        cpus=args.cpus,
        parallel=args.array_parallelism,
        folder=args.slurm_folder or paths.results_dir() / "slurm",
        cluster=args.cluster,
    )
    if args.dry_run:
        if args.executor == "slurm":
            print(sbatch_preview(slurm, len(specs)))
        print("\n".join(s.run_id for s in specs))
        print(f"{len(specs)} runs on the {args.executor} executor (dry run: nothing started)", file=sys.stderr)
        return 0
    if args.executor != "ray" and args.address is not None:
        raise UserError("--address is for --executor ray")
    tally = Tally(len(specs), progress=not args.quiet)
    try:
        if args.executor == "local":
            run_local(specs, args.jobs, tally, args.threads)
        elif args.executor == "ray":
            run_ray(specs, args.address, args.threads or 1, tally)
        else:
            run_slurm(specs, slurm, args.threads or args.cpus, tally)
    finally:
        results = tally.close()
    for r in results:
        if r.reason:
            print(f"{r.run_id}: FAILED ({r.reason})", file=sys.stderr)
    print(summary(results, write_outcomes(args.plan, results)))
    return 1 if any(r.state == "failed" for r in results) and not args.allow_failure else 0


def _dvc_views(args: argparse.Namespace) -> int:
    import pandas as pd

    from segrepro.dvc_views import write_dvc_views
    from segrepro.results import read_records

    out = args.out or paths.results_dir()
    board_csv = out / "leaderboard.csv"
    if not board_csv.is_file():
        raise UserError(f"no {board_csv}; run segrepro aggregate first")
    records, _ = read_records(args.runs or paths.runs_dir())  # unusable files: aggregate already named them
    folder = write_dvc_views(pd.read_csv(board_csv), records, out)
    print(f"wrote {folder / 'metrics.json'} and {folder / 'curves'}/ (dvc metrics show, dvc plots show)")
    return 0


def add_plan_commands(sub: argparse._SubParsersAction) -> None:
    """Register ``plan``, ``run-plan`` and ``dvc-views`` on the ``segrepro`` parser."""
    pl = sub.add_parser(
        "plan",
        help="expand a selection (params.yaml or flags) into run specs as JSON lines, with each record's state",
        description="One JSON line per run (dataset x baseline x fold x seed, at one tier; dvc.yaml's matrix order): "
        "plan_format, run_id, dataset, baseline, fold, seed, tier and state: done (an ok record), failed, stale "
        "(an ok record made by an older recipe than its entry's) or to do. Without flags it reads ./params.yaml; "
        "flags given replace its keys. Run it with: segrepro run-plan PLAN --executor local|ray|slurm.",
    )
    pl.add_argument("--params", type=Path, help="a params.yaml (default ./params.yaml when no selection flag is given)")
    pl.add_argument("--datasets", nargs="+", metavar="NAME")
    pl.add_argument("--baselines", nargs="+", metavar="ID")
    add_int_list(pl, "--folds", "F", "folds (default: the params file's; 0 with --datasets and --baselines)", None)
    add_int_list(pl, "--seeds", "S", "seeds (default: the params file's; 0 with --datasets and --baselines)", None)
    pl.add_argument("--tier", choices=TIERS)
    pl.add_argument("--out", type=Path, help="write the plan here (atomically) instead of to standard output")
    pl.set_defaults(func=_plan)

    rp = sub.add_parser(
        "run-plan",
        help="run a plan's runs on this machine (N processes), a Ray cluster or SLURM (submitit job array)",
        description="Runs every run of PLAN that is not done (a failed or stale record is run again from scratch; a "
        "run killed before its record resumes from its checkpoint), with a progress bar of done/failed/running and "
        "one final line saying where the records are and what failed. A failed run is recorded; the rest go on. "
        "Ray and SLURM need the optional extra: pip install 'segrepro[cluster]'. On a cluster, results/ and data/ "
        "(or SEGREPRO_RESULTS_DIR / SEGREPRO_DATA_DIR) must be on a file system every node sees.",
    )
    rp.add_argument("plan", type=Path, metavar="PLAN", help="a plan file written by segrepro plan")
    rp.add_argument("--executor", choices=("local", "ray", "slurm"), default="local")
    rp.add_argument("--jobs", type=int, default=1, help="local: runs at once, each in its own process (default 1)")
    rp.add_argument(
        "--threads", type=int, help="torch threads per run (default: local, CPUs / --jobs; ray 1; slurm --cpus)"
    )
    rp.add_argument("--address", help="ray: the cluster's HOST:PORT, ray://HOST:PORT or auto (default: start one here)")
    slurm = rp.add_argument_group("slurm (the job array's sbatch parameters; --dry-run shows the script)")
    slurm.add_argument("--partition")
    slurm.add_argument("--gpus", type=int, default=0, help="GPUs per run (default 0)")
    slurm.add_argument("--time", type=int, default=120, metavar="MIN", help="time limit per run, minutes (default 120)")
    slurm.add_argument("--mem", type=int, default=16, metavar="GB", help="memory per run (default 16)")
    slurm.add_argument("--cpus", type=int, default=4, help="CPUs per run (default 4)")
    slurm.add_argument("--array-parallelism", type=int, default=64, metavar="N", help="array jobs at once (default 64)")
    slurm.add_argument("--slurm-folder", type=Path, help="submitit's job folder (default results/slurm)")
    slurm.add_argument(
        "--cluster",
        choices=("slurm", "local"),
        default="slurm",
        help="'local' runs the job array through submitit's local executor on this machine (a trial, or tests)",
    )
    rp.add_argument("--dry-run", action="store_true", help="print what would run (and the sbatch script); run nothing")
    rp.add_argument("--allow-failure", action="store_true", help="exit 0 even when some runs failed")
    rp.add_argument("--quiet", action="store_true", help="no progress bar")
    rp.set_defaults(func=_run_plan)

    dv = sub.add_parser(
        "dvc-views",
        help="write results/dvc/metrics.json and results/dvc/curves/ for dvc metrics show / dvc plots show",
        description="From OUT/leaderboard.csv (segrepro aggregate) and the run records: metrics.json, the canonical "
        "mean dice and IoU per dataset, baseline and tier, and one CSV (iteration, value) per run and training "
        "curve (train_loss, val_score). dvc.yaml's views stage runs it and declares both.",
    )
    dv.add_argument("--runs", type=Path, help="folder of run records (default results/runs)")
    dv.add_argument("--out", type=Path, help="folder holding leaderboard.csv, written into OUT/dvc (default results)")
    dv.set_defaults(func=_dvc_views)
