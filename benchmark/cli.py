"""The ``segrepro`` command line: one subcommand per pipeline stage (each is also a DVC stage)."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

from segrepro import paths
from segrepro.errors import UserError
from segrepro.tiers import TIERS


def _datasets_list(args: argparse.Namespace) -> int:
    from segrepro.datasets import DATASETS

    for name, adapter in DATASETS:
        card = adapter.card
        state = "prepared" if (paths.prepared_dir(name) / "meta.json").exists() else "not prepared"
        print(f"{name:22s} {card.spatial_dims}-D  {card.n_classes} classes  [{state}]  {card.title}")
    prepared_root = paths.data_dir() / "prepared"
    for meta in sorted(prepared_root.glob("*/meta.json")) if prepared_root.is_dir() else []:
        if meta.parent.name not in DATASETS:  # prepared from a YAML card (--card)
            card = json.loads(meta.read_text())["card"]
            print(f"{meta.parent.name:22s} {card['spatial_dims']}-D  {len(card['classes'])} classes  [prepared, card]")
    return 0


def _datasets_show(args: argparse.Namespace) -> int:
    from segrepro.datasets import DATASETS, get_dataset

    meta = paths.prepared_dir(args.name) / "meta.json"
    prepared = json.loads(meta.read_text()) if meta.exists() else None
    # A dataset prepared from a YAML card is not registered: its card lives in meta.json.
    card = prepared["card"] if prepared and args.name not in DATASETS else get_dataset(args.name).card.to_dict()
    if prepared:
        card["prepared"] = {
            k: prepared[k] for k in ("class_counts", "class_frequencies", "masked_fraction", "data_hash")
        }
    else:
        card["prepared"] = f"not prepared; run: segrepro datasets prepare {args.name}"
    print(json.dumps(card, indent=2))
    return 0


def _datasets_fetch(args: argparse.Namespace) -> int:
    from segrepro.datasets import get_dataset
    from segrepro.io import write_text_atomic

    adapter = get_dataset(args.name)
    source = args.source or (str(args.mirror) if args.mirror is not None else "upstream")
    raw = paths.raw_dir(args.name)
    if source.startswith(("http://", "https://")):
        adapter.fetch(raw, None, base_url=source)
    elif source == "upstream":
        adapter.fetch(raw)
    else:
        if not Path(source).is_dir():
            raise UserError(f"mirror {source} is not a directory")
        adapter.fetch(raw, Path(source))
    # Where the verified files came from; also keeps the DVC fetch output non-empty for embedded data.
    write_text_atomic(raw / "FETCH_SOURCE", f"{source}\n")
    print(f"fetched {args.name} into {raw}")
    return 0


def _datasets_prepare(args: argparse.Namespace) -> int:
    from segrepro.datasets import DATASETS, get_dataset

    if args.card is not None:
        from segrepro.datasets.generic import GenericAdapter

        adapter = GenericAdapter.from_yaml(args.card)
        name = adapter.card.name
        if args.name not in (None, name):
            raise UserError(f"NAME {args.name!r} differs from the card's name {name!r}; give one of them")
        if name in DATASETS:
            raise UserError(f"{args.card}: name {name!r} is a registered dataset; choose another name")
        raw = adapter.root
    elif args.name is None:
        raise UserError("give a dataset NAME or --card path/to/card.yaml")
    else:
        name, adapter = args.name, get_dataset(args.name)
        raw = paths.raw_dir(name)
    out = adapter.prepare(raw, paths.prepared_dir(name))
    print(f"prepared {name} in {out}")
    return 0


def _baselines_list(args: argparse.Namespace) -> int:
    from segrepro.baselines import BASELINES

    for entry_id, entry in BASELINES:
        print(f"{entry_id:28s} paper {entry.paper:9s} {entry.title}")
    return 0


def _baselines_show(args: argparse.Namespace) -> int:
    from segrepro.baselines import get_baseline
    from segrepro.entry import count_parameters

    entry = get_baseline(args.id)
    card = entry.card()
    classes = [f"class {k}" for k in range(args.classes)]
    card["parameters"] = {
        f"{tier} ({dims}-D, {args.classes} classes)": count_parameters(entry.build_model(classes, dims, tier))
        for tier in entry.recipes
        for dims in entry.spatial_dims
    }
    print(json.dumps(card, indent=2, default=str))
    return 0


def _run(args: argparse.Namespace) -> int:
    from segrepro.protocol import RunSpec, execute, record_path

    spec = RunSpec(args.dataset, args.baseline, args.fold, args.seed, args.tier)
    record = execute(spec, progress=not args.quiet, save_predictions=args.save_predictions)
    where = record_path(spec)
    if record["status"] == "ok":
        mean = record["metrics"]["canonical"]["mean"]
        print(f"{spec.run_id}: mean foreground dice {mean['dice']}, iou {mean['iou']} -> {where}")
        return 0
    print(f"{spec.run_id}: FAILED ({record['reason']}); recorded in {where}", file=sys.stderr)
    return 0 if args.allow_failure else 1


def _stress(args: argparse.Namespace) -> int:
    from segrepro.stress import StressConfig, Sweep, run_stress

    config = StressConfig(
        dataset=args.dataset,
        baselines=tuple(args.baseline),
        ratios=args.ratios,
        tier=args.tier,
        fold=args.fold,
        seed=args.seed,
    )
    if args.dry_run:
        print("\n".join(Sweep(config).plan()))
        return 0
    out = run_stress(config, args.out, progress=not args.quiet)
    print(f"wrote {out / 'stress.csv'} and {out / 'stress.png'}")
    return 0


def _aggregate(args: argparse.Namespace) -> int:
    from segrepro.aggregate import aggregate

    board, problems = aggregate(args.runs or paths.runs_dir(), args.out or paths.results_dir())
    for path, problem in problems:
        print(f"skipped {path}: {problem}", file=sys.stderr)
    out = args.out or paths.results_dir()
    print(f"wrote {out / 'leaderboard.csv'} ({len(board)} rows) and {out / 'per_class.csv'}")
    print("open the leaderboard with: segrepro leaderboard")
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from segrepro.metrics.conventions import get_convention
    from segrepro.metrics.evaluate import evaluate_arrays
    from segrepro.metrics.files import read_instances, read_labels, read_mask, read_probs
    from segrepro.metrics.instances import InstanceEvaluation

    if args.n_classes < 2:
        raise UserError(f"--n-classes must be at least 2, not {args.n_classes}")
    convention = get_convention(args.convention)
    target = read_labels(args.target, args.n_classes)
    pred = read_labels(args.pred, args.n_classes, target.shape)
    mask = None if args.mask is None else read_mask(args.mask, target.shape)
    probs = None if args.probs is None else read_probs(args.probs, args.n_classes, target.shape)
    result = evaluate_arrays(
        target,
        pred,
        args.n_classes,
        probs=probs,
        mask=mask,
        convention=convention,
        include_background=True if args.include_background else None,
        instances=args.instances,
        hd95=args.hd95,
    )
    if (args.target_instances is None) != (args.pred_instances is None):
        raise UserError("give both --target-instances and --pred-instances (instance-label files), or neither")
    if args.target_instances is not None:
        matched = InstanceEvaluation()
        matched.add(
            "image",
            read_instances(args.target_instances, target.shape),
            read_instances(args.pred_instances, target.shape),
            mask,
        )
        result["instances"] = matched.record()["pooled"]
    print(json.dumps(result, indent=2))
    return 0


def _conventions(args: argparse.Namespace) -> int:
    from segrepro.metrics.conventions import CONVENTIONS

    for name, c in CONVENTIONS.items():
        print(f"{name}{f' (paper {c.paper})' if c.paper else ''}: {c.description}")
        print(
            f"    per_image={c.per_image} slices={c.slices} undefined={c.undefined} "
            f"skip_empty={c.skip_empty} include_background={c.include_background}"
        )
        if c.reconstruction:
            print(f"    reconstruction: {c.reconstruction}")
    return 0


def _leaderboard(args: argparse.Namespace) -> int:
    if not 1 <= args.port <= 65535:
        raise UserError(f"--port must be between 1 and 65535, not {args.port}")
    app = Path(__file__).resolve().parent.parent / "leaderboard" / "app.py"
    from importlib.util import find_spec

    spec = find_spec("segrepro.leaderboard.app")
    if spec is not None and spec.origin:
        app = Path(spec.origin)
    cmd = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(app),
        "--server.port",
        str(args.port),
        "--server.address",
        args.host,
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
        "--client.toolbarMode",
        "viewer",
    ]
    print(f"leaderboard on http://{args.host}:{args.port}")
    return subprocess.call(cmd)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="segrepro",
        description="Reproducibility benchmark for class-imbalanced microscopy segmentation.",
    )
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    ds = sub.add_parser("datasets", help="list, show, fetch and prepare datasets")
    ds_sub = ds.add_subparsers(dest="action", required=True, metavar="ACTION")
    ds_sub.add_parser("list", help="registered datasets and whether they are prepared").set_defaults(
        func=_datasets_list
    )
    s = ds_sub.add_parser("show", help="a dataset's card and its prepared class frequencies")
    s.add_argument("name")
    s.set_defaults(func=_datasets_show)
    s = ds_sub.add_parser("fetch", help="download (or copy from a mirror) and verify a dataset's files")
    s.add_argument("name")
    s.add_argument("--mirror", type=Path, help="local directory in the upstream layout to copy from")
    s.add_argument(
        "--source",
        help="'upstream' (the card's URLs, default), a local mirror directory, or an http(s) base URL "
        "serving the upstream layout (dvc.yaml passes params.yaml's choice here)",
    )
    s.set_defaults(func=_datasets_fetch)
    s = ds_sub.add_parser("prepare", help="write the canonical prepared form into data/prepared/NAME")
    s.add_argument("name", nargs="?", help="a registered dataset (optional with --card)")
    s.add_argument("--card", type=Path, help="YAML card of your own files (generic adapter; see README)")
    s.set_defaults(func=_datasets_prepare)

    bl = sub.add_parser("baselines", help="list and show registered baseline entries")
    bl_sub = bl.add_subparsers(dest="action", required=True, metavar="ACTION")
    bl_sub.add_parser("list", help="registered baseline ids").set_defaults(func=_baselines_list)
    s = bl_sub.add_parser("show", help="an entry's card: paper, model, loss, recipe and parameters per tier")
    s.add_argument("id")
    s.add_argument("--classes", type=int, default=4, help="number of classes to count parameters for (default 4)")
    s.set_defaults(func=_baselines_show)

    r = sub.add_parser("run", help="train and evaluate one (dataset, baseline, fold, seed, tier)")
    r.add_argument("--dataset", required=True)
    r.add_argument("--baseline", required=True)
    r.add_argument("--fold", type=int, default=0)
    r.add_argument("--seed", type=int, default=0)
    r.add_argument("--tier", default="smoke", choices=TIERS)
    r.add_argument(
        "--allow-failure",
        action="store_true",
        help="exit 0 after recording a failed run (dvc.yaml uses it so one failure does not stop the rest)",
    )
    r.add_argument("--quiet", action="store_true", help="no progress bars")
    r.add_argument(
        "--save-predictions",
        type=int,
        default=0,
        metavar="N",
        help="save overlay PNGs (image | truth | prediction) of the first N test images beside the record",
    )
    r.set_defaults(func=_run)

    st = sub.add_parser(
        "stress", help="class-ratio stress test: retrain at each foreground/background ratio, score one test set"
    )
    st.add_argument("--dataset", required=True)
    st.add_argument(
        "--baseline", required=True, action="extend", nargs="+", help="baseline ids (several, or the option repeated)"
    )
    st.add_argument(
        "--ratios",
        required=True,
        help="foreground:background ratios (1:1,1:10,1:1000), numbers (0.01) or class-ratio vectors as in "
        "paper 000's table 6 (one share per foreground class, then the background: 0.27/0.18/0.05/0.5)",
    )
    st.add_argument("--tier", default="quick", choices=TIERS)
    st.add_argument("--fold", type=int, default=0, help="fold whose validation and test images are used")
    st.add_argument("--seed", type=int, default=0)
    st.add_argument("--out", type=Path, help="output folder (default results/stress/DATASET)")
    st.add_argument("--dry-run", action="store_true", help="print the ratio each training set achieves; train nothing")
    st.add_argument("--quiet", action="store_true", help="no progress bars")
    st.set_defaults(func=_stress)

    a = sub.add_parser("aggregate", help="write results/leaderboard.csv and per_class.csv from the run records")
    a.add_argument("--runs", type=Path, help="folder of run records (default results/runs)")
    a.add_argument("--out", type=Path, help="output folder (default results)")
    a.set_defaults(func=_aggregate)

    ev = sub.add_parser(
        "evaluate",
        help="score your own prediction against a ground truth; prints one JSON object",
        description="Reads .npy, .tif/.tiff, .png or .nii/.nii.gz files and prints {per_class: {id: {metric: value}}, "
        "mean: {metric: value}}; mean is over foreground classes (1..K-1) unless --include-background "
        "(or a convention that includes class 0, such as fujii2021).",
    )
    ev.add_argument("--target", type=Path, required=True, help="ground-truth class ids")
    ev.add_argument("--pred", type=Path, required=True, help="predicted class ids, same shape")
    ev.add_argument("--probs", type=Path, help="class scores, channel first (K, *shape): adds the exact ROC AUC")
    ev.add_argument("--mask", type=Path, help="validity mask, 1 where scored, same shape")
    ev.add_argument("--n-classes", type=int, required=True, help="number of classes K (ids 0..K-1)")
    ev.add_argument(
        "--convention", default="canonical", help="scoring convention (default canonical; see: segrepro conventions)"
    )
    ev.add_argument(
        "--instances",
        action="store_true",
        help="add PQ, SQ, RQ, P05 and component detection of each class's connected components",
    )
    ev.add_argument(
        "--target-instances",
        type=Path,
        help="ground-truth instance labels (0 = none), same shape: with --pred-instances adds 'instances': "
        "P05, RQ, SQ, PQ of the two instance maps matched at IoU > 0.5 (touching cells stay apart)",
    )
    ev.add_argument("--pred-instances", type=Path, help="predicted instance labels (0 = none), same shape")
    ev.add_argument("--hd95", action="store_true", help="add MONAI's 95th-percentile Hausdorff distance (voxels)")
    ev.add_argument("--include-background", action="store_true", help="include class 0 in the mean")
    ev.set_defaults(func=_evaluate)
    sub.add_parser(
        "conventions", help="the registered scoring conventions (for evaluate --convention) and what each one does"
    ).set_defaults(func=_conventions)

    lb = sub.add_parser("leaderboard", help="start the Streamlit leaderboard")
    lb.add_argument("--port", type=int, default=8501)
    lb.add_argument("--host", default="127.0.0.1", help="address to bind (default loopback)")
    lb.set_defaults(func=_leaderboard)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except UserError as exc:
        print(f"segrepro: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("segrepro: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
