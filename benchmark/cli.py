"""The ``segrepro`` command line: one subcommand per pipeline stage (each is also a DVC stage)."""

from __future__ import annotations

import argparse
import functools
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from segrepro import paths
from segrepro.errors import UserError
from segrepro.tiers import TIERS

if TYPE_CHECKING:  # the commands import the engine lazily: `--help` and listings stay fast
    from segrepro.protocol import RunOutcome
    from segrepro.runspec import RunSpec


def add_int_list(
    parser: argparse.ArgumentParser, flag: str, metavar: str, help: str, default: list[int] | None
) -> None:
    """``FLAG N [N ...]``: the one spelling of a list of folds or seeds (``plan``, ``submit``, ``stress``)."""
    parser.add_argument(flag, type=int, nargs="+", default=default, metavar=metavar, help=help)


def _datasets_list(args: argparse.Namespace) -> int:
    from segrepro.datasets import DATASETS
    from segrepro.display import columns, show

    rows = []
    for name, adapter in DATASETS:
        card = adapter.card
        state = "prepared" if (paths.prepared_dir(name) / "meta.json").exists() else "not prepared"
        rows.append((name, f"{card.spatial_dims}-D", card.n_classes, state, card.title))
    prepared_root = paths.data_dir() / "prepared"
    for meta in sorted(prepared_root.glob("*/meta.json")) if prepared_root.is_dir() else []:
        if meta.parent.name not in DATASETS:  # prepared from a YAML card (--card)
            card = json.loads(meta.read_text())["card"]
            dims, title = f"{card['spatial_dims']}-D", card.get("title", "")
            rows.append((meta.parent.name, dims, len(card["classes"]), "prepared (YAML card)", title))
    show(columns(("name", "dims", "classes", "state", "title"), rows))
    return 0


def _datasets_show(args: argparse.Namespace) -> int:
    from segrepro.datasets import DATASETS, get_dataset

    meta = paths.prepared_dir(args.name) / "meta.json"
    prepared = json.loads(meta.read_text()) if meta.exists() else None
    # A dataset prepared from a YAML card is not registered: its card lives in meta.json.
    card = prepared["card"] if prepared and args.name not in DATASETS else get_dataset(args.name).card.to_dict()
    keys = ("class_counts", "class_frequencies", "masked_fraction", "data_hash")
    summary = {k: prepared[k] for k in keys} if prepared else None
    if args.json:
        card["prepared"] = summary or f"not prepared; run: segrepro datasets prepare {args.name}"
        print(json.dumps(card, indent=2))
        return 0
    from segrepro.display import dataset_card, show

    show(*dataset_card(card, summary, args.name))
    return 0


def _datasets_fetch(args: argparse.Namespace) -> int:
    from segrepro.datasets import get_dataset
    from segrepro.io import new_folders_removed_on_error, write_text_atomic

    adapter = get_dataset(args.name)
    source = args.source or (str(args.mirror) if args.mirror is not None else "upstream")
    raw = paths.raw_dir(args.name)
    if not source.startswith(("http://", "https://")) and source != "upstream" and not Path(source).is_dir():
        raise UserError(f"mirror {source} is not a directory")
    with new_folders_removed_on_error(raw):  # a failed fetch leaves no empty folders behind
        if source.startswith(("http://", "https://")):
            adapter.fetch(raw, None, base_url=source)
        elif source == "upstream":
            adapter.fetch(raw)
        else:
            adapter.fetch(raw, Path(source))
        # Where the verified files came from; also keeps the DVC fetch output non-empty for embedded data.
        write_text_atomic(raw / "FETCH_SOURCE", f"{source}\n")
    print(f"fetched {args.name} into {raw}")
    return 0


def _datasets_prepare(args: argparse.Namespace) -> int:
    from segrepro.datasets import DATASETS, get_dataset
    from segrepro.io import new_folders_removed_on_error

    if args.card is not None:
        from segrepro.datasets.generic import GenericAdapter

        adapter = GenericAdapter.from_yaml(args.card)
        name = adapter.card.name
        if args.name not in (None, name):
            raise UserError(f"NAME {args.name!r} differs from the card's name {name!r}; give one of them")
        if name in DATASETS:
            raise UserError(f"{args.card}: name {name!r} is a registered dataset; choose another name")
        prepare = functools.partial(adapter.prepare, adapter.root, force=args.force)
    elif args.name is None:
        raise UserError("give a dataset NAME or --card path/to/card.yaml")
    else:
        name, adapter = args.name, get_dataset(args.name)
        prepare = functools.partial(adapter.prepare, paths.raw_dir(name))
    with new_folders_removed_on_error(paths.prepared_dir(name)):  # a failed prepare leaves no empty folders
        out = prepare(paths.prepared_dir(name))
    print(f"prepared {name} in {out}")
    return 0


def _baselines_list(args: argparse.Namespace) -> int:
    from segrepro.baselines import BASELINES
    from segrepro.display import columns, show

    show(columns(("id", "paper", "title"), ((entry_id, e.paper, e.title) for entry_id, e in BASELINES)))
    return 0


MAX_CLASSES = 65536


def _baselines_show(args: argparse.Namespace) -> int:
    from segrepro.baselines import get_baseline

    if not 2 <= args.classes <= MAX_CLASSES:
        raise UserError(
            f"--classes is the number of classes (background included) to count parameters for: "
            f"2 to {MAX_CLASSES}, not {args.classes}"
        )
    import torch

    from segrepro.entry import count_parameters

    entry = get_baseline(args.id)
    counts: dict[str, dict[str, int]] = {}
    for dims in entry.spatial_dims if entry.method is None else ():  # a method's size is known once fitted
        for tier in entry.recipes:
            with torch.device("meta"):  # shapes only: no memory, no initialisation, any class count
                model = entry.build_model([f"class {k}" for k in range(args.classes)], dims, tier)
            counts.setdefault(f"{dims}-D, {args.classes} classes", {})[tier] = count_parameters(model)
    card = entry.card()
    if args.json:
        card["parameters"] = {f"{t} ({what})": n for what, per_tier in counts.items() for t, n in per_tier.items()}
        print(json.dumps(card, indent=2, default=str))
        return 0
    from segrepro.display import baseline_card, show

    show(*baseline_card(card, counts))
    return 0


def _spec(args: argparse.Namespace) -> RunSpec:
    from segrepro.runspec import RunSpec

    return RunSpec(args.dataset, args.baseline, args.fold, args.seed, args.tier)


def _report(outcome: RunOutcome, args: argparse.Namespace) -> int:
    from segrepro.score import record_path

    record = outcome.record
    run_id, where = record["run_id"], record_path(_spec(args))
    if outcome.action == "exists":
        print(f"{run_id}: a record exists in {where}; skipped (give --force to replace it)")
        return 0
    if record["status"] == "ok":
        mean = record["metrics"]["canonical"]["mean"]
        dice, iou = (f"{v:.4f}" if v is not None else "undefined" for v in (mean["dice"], mean["iou"]))
        print(f"{run_id}: mean foreground dice {dice}, iou {iou} -> {where}")
        return 0
    if outcome.action == "kept":
        print(f"{run_id}: FAILED ({record['reason']}); the existing ok record {where} is kept", file=sys.stderr)
    else:
        print(f"{run_id}: FAILED ({record['reason']}); recorded in {where}", file=sys.stderr)
    return 0 if args.allow_failure else 1


def _run(args: argparse.Namespace) -> int:
    from segrepro.protocol import execute

    outcome = execute(_spec(args), progress=not args.quiet, save_predictions=args.save_predictions, force=args.force)
    return _report(outcome, args)


def _score(args: argparse.Namespace) -> int:
    from segrepro.protocol import rescore

    outcome = rescore(_spec(args), progress=not args.quiet, save_predictions=args.save_predictions, force=args.force)
    return _report(outcome, args)


def _fit(args: argparse.Namespace) -> int:
    from segrepro.fit import fit

    outcome = fit(_spec(args), force=args.force, progress=not args.quiet)
    if outcome.action == "exists":
        print(f"a finished checkpoint exists in {outcome.checkpoint}; skipped (give --force to train again)")
    else:
        print(f"{outcome.action} {outcome.checkpoint}")
    return 0


def _predict(args: argparse.Namespace) -> int:
    from segrepro.baselines import get_baseline
    from segrepro.predict import predict_folder, predict_split
    from segrepro.runspec import check_seed

    if args.images is not None:
        if args.out is None:
            raise UserError("--images needs --out, the folder to write the predictions into")
        if args.checkpoint is None and args.dataset is None:
            raise UserError("--images needs --checkpoint FILE (or --dataset/--baseline... naming a fitted run)")
        if args.checkpoint is None:
            check_seed(args.seed)
        if args.checkpoint is None:
            spec = _spec(args)
            ckpt, entry = spec.checkpoint, get_baseline(spec.baseline)
        else:
            ckpt, entry = args.checkpoint, None
        written = predict_folder(ckpt, args.images, args.out, args.probabilities, args.force, not args.quiet, entry)
    else:
        if args.dataset is None or args.baseline is None:
            raise UserError("give --dataset and --baseline (a fitted run), or --images DIR --out DIR --checkpoint FILE")
        written = predict_split(_spec(args), args.split, args.probabilities, not args.quiet)
    print(f"wrote {len(written)} files into {written[0].parent if written else '-'}")
    return 0


def _stress(args: argparse.Namespace) -> int:
    from segrepro.stress import StressConfig, Sweep, run_stress, summary_table

    config = StressConfig(
        dataset=args.dataset,
        baselines=tuple(args.baseline),
        ratios=args.ratios,
        tier=args.tier,
        fold=args.fold,
        seeds=tuple(args.seeds),
        foreground=args.foreground,
    )
    if args.dry_run:
        print("\n".join(Sweep(config).plan()))
        return 0
    out = run_stress(config, args.out, progress=not args.quiet, resume=args.resume)
    print(f"wrote {out / 'stress.csv'} and {out / 'stress.png'}")
    print("mean accuracy / F1 over the foreground classes (mean ± std over seeds):")
    print(summary_table(out / "stress.csv"))
    return 0


def _aggregate(args: argparse.Namespace) -> int:
    from segrepro.aggregate import aggregate

    submissions = args.submissions or paths.results_dir() / "submissions"
    board, tables = aggregate(args.runs or paths.runs_dir(), args.out or paths.results_dir(), submissions=submissions)
    for problem in tables.problems:
        print(f"skipped {problem.path}: {problem.message}", file=sys.stderr)
    out = args.out or paths.results_dir()
    print(f"wrote {out / 'leaderboard.csv'} ({len(board)} rows), {out / 'per_class.csv'} and {out / 'tables'}/")
    stale = int(tables.runs["stale"].sum())
    if stale:
        print(f"{stale} stale run(s) (made by an older recipe than their entry's) are left out of the statistics")
    print("open the leaderboard with: segrepro leaderboard")
    return 0


def _submit(args: argparse.Namespace) -> int:
    from segrepro.submit import EMBEDDED, Submission, default_out, submit

    if args.dataset is None:
        from segrepro.baselines import get_baseline

        args.dataset = [EMBEDDED[min(get_baseline(args.entry).spatial_dims)]]
    submission = Submission(args.entry, tuple(args.dataset), args.tier, tuple(args.folds), tuple(args.seeds))
    out = args.out or default_out(args.entry, args.tier)
    written = submit(submission, out, force=args.force, progress=not args.quiet, check_only=args.check_only)
    if written is None:
        print(f"{args.entry}: every check passed")
    else:
        print(f"wrote {written} ({len(submission.specs())} run(s)); hand it in, or drop it into results/submissions/")
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from segrepro.metrics import files
    from segrepro.metrics.conventions import get_convention
    from segrepro.metrics.evaluate import ImageParts, check_n_classes, image_parts, summarize

    if args.card is not None and args.dataset is not None:
        raise UserError("give --card or --dataset, not both")
    label_map = None
    if args.card is not None:
        label_map = files.card_label_map(args.card)
    elif args.dataset is not None:
        label_map = files.dataset_label_map(args.dataset)
    n_classes = args.n_classes
    if label_map is not None:
        if n_classes not in (None, label_map.n_classes):
            raise UserError(
                f"--n-classes {n_classes} differs from the {label_map.n_classes} classes of {label_map.source}"
            )
        n_classes = label_map.n_classes
    elif n_classes is None:
        raise UserError("give --n-classes K (class ids 0..K-1), or --card/--dataset to map raw label values")
    check_n_classes(n_classes)
    if (args.target_instances is None) != (args.pred_instances is None):
        raise UserError("give both --target-instances and --pred-instances (instance-label files), or neither")
    convention = get_convention(args.convention)
    background = True if args.include_background else None

    def score(target: Path, pred: Path, mask: Path | None, probs: Path | None) -> ImageParts:
        t, p, m, pr = files.read_pair(target, pred, n_classes, mask, probs, label_map)
        return image_parts(t, p, n_classes, pr, m, convention, args.instances, args.hd95)

    optional = [(name, path) for name, path in (("mask", args.mask), ("probs", args.probs)) if path is not None]
    if not args.target.is_dir():
        folders = [f"--{name}" for name, path in [("pred", args.pred), *optional] if path.is_dir()]
        if folders:
            raise UserError(f"--target is a file, so {folders[0]} must be one too (or give folders for all)")
        if args.only_predicted:
            raise UserError("--only-predicted chooses files of a --target folder; --target is a file")
        result = summarize([score(args.target, args.pred, args.mask, args.probs)], n_classes, convention, background)
        if args.target_instances is not None:
            result["instances"] = _matched_instances(args)
        print(json.dumps(result, indent=2))
        return 0
    if args.target_instances is not None:
        raise UserError("--target-instances and --pred-instances take one pair of files, not folders")
    others = [("pred", args.pred), *optional]
    for name, path in others:
        if not path.is_dir():
            raise UserError(f"--target is a folder, so --{name} must be one too: {path} is not a folder")
    pairs = files.paired_folders(args.target, others, "pred" if args.only_predicted else None)
    images, parts = {}, []
    for name, target, found in tqdm(pairs, desc="evaluate", unit="pair", disable=args.quiet, file=sys.stderr):
        part = score(target, found["pred"], found.get("mask"), found.get("probs"))
        images[name] = summarize([part], n_classes, convention, background)
        parts.append(part)
    result = {"images": images, "pooled": summarize(parts, n_classes, convention, background)}
    print(json.dumps(result, indent=2))
    return 0


def _matched_instances(args: argparse.Namespace) -> dict:
    """P05, RQ, SQ, PQ between two instance-label files (matched at IoU > 0.5), pooled."""
    from segrepro.datasets.readers import read_array
    from segrepro.metrics.files import read_instances, read_mask
    from segrepro.metrics.instances import InstanceEvaluation

    shape = read_array(args.target, squeeze=False).shape
    target = read_instances(args.target_instances, shape)
    mask = None if args.mask is None else read_mask(args.mask, target.shape)
    matched = InstanceEvaluation()
    matched.add("image", target, read_instances(args.pred_instances, shape), mask)
    return matched.record()["pooled"]


def _conventions(args: argparse.Namespace) -> int:
    from segrepro.metrics.conventions import CONVENTIONS

    for name, c in CONVENTIONS.items():
        print(f"{name}{f' (paper {c.paper})' if c.paper else ''}: {c.description}")
        print(
            f"    per_image={c.per_image} slices={c.slices} undefined={c.undefined} "
            f"skip_empty={c.skip_empty} include_background={c.include_background} "
            f"present_only={c.present_only} multi_label={c.multi_label} auc={c.auc}"
        )
        if c.reconstruction:
            print(f"    reconstruction: {c.reconstruction}")
    return 0


def _bind_check(host: str, port: int) -> bool:
    """Whether ``host`` reaches beyond this machine; a host that does not resolve or cannot be bound here
    (or a port in use) is a one-line error before the server starts."""
    import ipaddress
    import re
    import socket

    try:
        ipaddress.ip_address(host)
    except ValueError:
        label = r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)"
        if not re.fullmatch(rf"{label}(\.{label})*\.?", host) or re.fullmatch(r"[0-9.]+", host):
            raise UserError(f"--host {host!r} is neither an IP address nor a host name") from None
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except (socket.gaierror, UnicodeError) as exc:
        raise UserError(f"--host {host!r} is not an address or a host name this machine knows ({exc})") from exc
    family, _, _, _, address = found[0]
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            raise UserError(
                f"cannot serve on {host}:{port} ({exc.strerror}); choose another --port, or a --host of this machine"
            ) from exc
    return any(not ipaddress.ip_address(a[4][0].split("%")[0]).is_loopback for a in found)


def _die_with_parent() -> None:
    """In the Streamlit child (Linux): receive SIGTERM when the ``segrepro leaderboard`` parent dies,
    even by SIGKILL, so no server is left serving on its own."""
    import ctypes
    import signal

    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _record_folders(args: argparse.Namespace) -> list[Path]:
    """The record folders of ``claims`` and ``compare``: ``--runs``, else the reference records, then yours."""
    return args.runs or [paths.results_dir() / "reference" / "runs", paths.runs_dir()]


def _claims(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from segrepro.baselines import BASELINES
    from segrepro.claims import describe, judge, load_all_claims
    from segrepro.datasets import DATASETS
    from segrepro.io import write_text_atomic
    from segrepro.leaderboard import data, views
    from segrepro.selection import registered_selections, selections_table

    if not 0 < args.alpha < 1:
        raise UserError(f"--alpha must be between 0 and 1, not {args.alpha}")
    every = load_all_claims(paths.published_dir(), BASELINES.names(), DATASETS.names())
    claims = [c for c in every if args.paper in (None, c.paper)]
    if not claims:
        papers = ", ".join(sorted({c.paper for c in every})) or "none"
        raise UserError(f"no claims for paper {args.paper!r}; papers with claims: {papers}")
    # the page's own reading: a later folder wins on the same run (yours over the reference)
    folders = tuple((str(f), f) for f in _record_folders(args))
    results = data.load_results(data.Folders(folders, paths.published_dir(), ()))
    for problem in results.problems:
        print(f"skipped {problem.path}: {problem.message}", file=sys.stderr)
    # the seeds the statistics cover, as on the page (paper 003's paper tier: the best 10 of 15)
    selected = views.seed_selected(replace(results, recipes=selections_table(registered_selections())))
    verdicts, comparisons = judge(claims, views.claim_scores(selected, claims), args.alpha)
    if args.csv:
        write_text_atomic(args.csv, verdicts.to_csv(index=False))
        write_text_atomic(args.csv.with_name(f"{args.csv.stem}_comparisons.csv"), comparisons.to_csv(index=False))
    print(f"{len(claims)} claims, {len(results.runs)} run records")
    print(describe(verdicts, args.alpha))
    return 0


def _compare(args: argparse.Namespace) -> int:
    from segrepro.leaderboard.report import comparison, to_markdown

    classes = dict(_class_pair(text) for text in args.classes or ())
    folders = _record_folders(args)
    table = comparison(folders, args.paper, args.dataset, args.tier, args.on or (), classes, args.metric or ())
    if table.empty:
        raise UserError(f"no run matches a published number of paper {args.paper} yet; run one with `segrepro run`")
    print(to_markdown(table))
    return 0


def _class_pair(text: str) -> tuple[str, str]:
    """``compare --class PUBLISHED=RUN`` as ``(PUBLISHED, RUN)``."""
    published, sep, run = text.partition("=")
    if not (sep and published and run):
        raise UserError(f"--class takes PUBLISHED=RUN (a published class name = a class of the runs), not {text!r}")
    return published, run


def _leaderboard(args: argparse.Namespace) -> int:
    import os
    import signal

    from segrepro.leaderboard.access import SECRET_ENV

    if not 1 <= args.port <= 65535:
        raise UserError(f"--port must be between 1 and 65535, not {args.port}")
    beyond_loopback = _bind_check(args.host, args.port)
    secret = args.secret or os.environ.get(SECRET_ENV)
    if args.secret is not None and not args.secret:
        raise UserError("--secret is empty; give a secret or leave the option out")
    if beyond_loopback:
        print(
            f"warning: --host {args.host} serves the leaderboard to every machine that can reach this one"
            + ("" if secret else "; anyone there can read it (give --secret to ask for a shared secret)"),
            file=sys.stderr,
        )
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
        "--client.showErrorDetails",
        "none",  # a traceback that escapes the page's own guards stays in this terminal
    ]
    env = {k: v for k, v in os.environ.items() if k != SECRET_ENV}  # the secret goes by environment, never argv
    if secret:
        env[SECRET_ENV] = secret
    where = f"[{args.host}]" if ":" in args.host else args.host  # an IPv6 address in a URL
    print(f"leaderboard on http://{where}:{args.port}" + (" (asks for the shared secret)" if secret else ""))
    sys.stdout.flush()
    child = subprocess.Popen(cmd, env=env, preexec_fn=_die_with_parent if sys.platform == "linux" else None)

    def stop(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        return child.wait()
    finally:  # SIGTERM, SIGHUP, Ctrl-C or an error here: the server stops with its parent
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if child.poll() is None:
            child.terminate()
            try:
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()


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
    s.add_argument("name", help="a registered dataset or one prepared from a YAML card (see: segrepro datasets list)")
    s.add_argument("--json", action="store_true", help="print the card and the prepared summary as JSON")
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
    s.add_argument(
        "--force", action="store_true", help="with --card: replace data prepared under the same name from another card"
    )
    s.set_defaults(func=_datasets_prepare)

    bl = sub.add_parser("baselines", help="list and show registered baseline entries")
    bl_sub = bl.add_subparsers(dest="action", required=True, metavar="ACTION")
    bl_sub.add_parser("list", help="registered baseline ids").set_defaults(func=_baselines_list)
    s = bl_sub.add_parser("show", help="an entry's card: paper, model, loss, recipe and parameters per tier")
    s.add_argument("id", help="a registered baseline id (see: segrepro baselines list)")
    s.add_argument(
        "--classes",
        type=int,
        default=4,
        help=f"number of classes, background included, to count parameters for (2 to {MAX_CLASSES}; default 4)",
    )
    s.add_argument("--json", action="store_true", help="print the card, recipes and parameter counts as JSON")
    s.set_defaults(func=_baselines_show)

    def run_options(parser: argparse.ArgumentParser, required: bool = True) -> None:
        parser.add_argument("--dataset", required=required, help="a prepared dataset (registered or from a card)")
        parser.add_argument("--baseline", required=required, help="a baseline id (segrepro baselines list)")
        parser.add_argument("--fold", type=int, default=0)
        parser.add_argument("--seed", type=int, default=0, help="0 <= seed < 2**63 (default 0)")
        parser.add_argument("--tier", default="smoke", choices=TIERS)
        parser.add_argument("--quiet", action="store_true", help="no progress bars")

    def record_options(parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--allow-failure",
            action="store_true",
            help="exit 0 after recording a failed run (dvc.yaml uses it so one failure does not stop the rest)",
        )
        parser.add_argument(
            "--save-predictions",
            type=int,
            default=0,
            metavar="N",
            help="also save overlay PNGs (image | truth | prediction) of the first N test images in "
            "results/runs/RUN_ID/",
        )
        parser.add_argument("--force", action="store_true", help="replace an existing record")

    where = (
        "RUN_ID is DATASET__BASELINE__TIER__fFOLD__sSEED. Results go under results/ (or $SEGREPRO_RESULTS_DIR): "
        "the checkpoint in models/RUN_ID/checkpoint.pt, the test predictions in predictions/RUN_ID/test/ID.npz, "
        "the record in runs/RUN_ID.json. Two identical commands never run at once: the second waits for the first."
    )
    r = sub.add_parser(
        "run",
        help="fit + predict + score one (dataset, baseline, fold, seed, tier)",
        description="fit (resuming an unfinished checkpoint), predict the test split with probabilities, score it. "
        "An existing record is kept unless --force; a failure never replaces an ok record. " + where,
    )
    run_options(r)
    record_options(r)
    r.set_defaults(func=_run)

    f = sub.add_parser(
        "fit",
        help="train one run into results/models/RUN_ID/checkpoint.pt (resumable)",
        description="Train one run. The checkpoint results/models/RUN_ID/checkpoint.pt (weights, optimiser, "
        "schedule, iteration, RNG states, curves, best weights) is rewritten atomically at every validation; "
        "after a crash or kill, the same command resumes from it. A finished checkpoint is kept unless --force. "
        + where,
    )
    run_options(f)
    f.add_argument("--force", action="store_true", help="train again from scratch, replacing the checkpoint")
    f.set_defaults(func=_fit)

    pr = sub.add_parser(
        "predict",
        help="predict a dataset split, or a folder of your own images, with a fitted checkpoint",
        description="With --dataset/--baseline/...: predicts --split of that run's fold into "
        "results/predictions/RUN_ID/SPLIT/ID.npz (compressed; 'classes' = class ids, and 'probabilities' "
        "(K, *shape) float32 with --probabilities). With --images DIR --out OUT: predicts every TIFF/PNG/NIfTI "
        "file in DIR into OUT/NAME (class ids in the input's format) and, with --probabilities, "
        "OUT/STEM.probs.npz; the model is --checkpoint FILE or the named run's.",
    )
    run_options(pr, required=False)
    pr.add_argument("--split", default="test", choices=("train", "val", "test"), help="dataset split (default test)")
    pr.add_argument("--probabilities", action="store_true", help="also write class probabilities (compressed)")
    pr.add_argument("--images", type=Path, help="a folder of your own TIFF/PNG/NIfTI images instead of a split")
    pr.add_argument("--out", type=Path, help="where --images predictions go (not the images folder)")
    pr.add_argument("--checkpoint", type=Path, help="checkpoint file for --images (default: the named run's)")
    pr.add_argument("--force", action="store_true", help="replace existing files in --out")
    pr.set_defaults(func=_predict)

    sc = sub.add_parser(
        "score",
        help="score a run's test predictions into results/runs/RUN_ID.json (no training)",
        description="Turns results/predictions/RUN_ID/test/*.npz (with probabilities) and the prepared labels "
        "into the run record results/runs/RUN_ID.json, with the checkpoint and prediction paths and the recipe "
        "hash. An existing record is kept unless --force (re-scoring); a failure never replaces an ok record.",
    )
    run_options(sc)
    record_options(sc)
    sc.set_defaults(func=_score)

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
    add_int_list(
        st,
        "--seeds",
        "S",
        "one sweep per seed, rows kept apart by a seed column; the curves show the mean with a band (default 0)",
        [0],
    )
    st.add_argument(
        "--foreground",
        metavar="CLASS",
        help="real data: sweep this class against all the others merged into one 'rest' class "
        "(e.g. mitochondria on drosophila-vnc); the output folder becomes DATASET-CLASS",
    )
    st.add_argument("--out", type=Path, help="output folder (default results/stress/DATASET[-CLASS])")
    st.add_argument("--dry-run", action="store_true", help="print the ratio each training set achieves; train nothing")
    st.add_argument(
        "--resume",
        action="store_true",
        help="continue an interrupted run of the same sweep in the output folder: keep the models it finished, "
        "train the rest (the failed ones again)",
    )
    st.add_argument("--quiet", action="store_true", help="no progress bars")
    st.set_defaults(func=_stress)

    a = sub.add_parser(
        "aggregate",
        help="write results/tables/*.parquet, leaderboard.csv and per_class.csv from the run records",
        description="Reads every run record (records changed since the last aggregate only), writes the tidy "
        "tables the leaderboard renders (OUT/tables/*.parquet: runs, scores, shares, counts, problems, recipes) "
        "and the CSVs leaderboard.csv and per_class.csv. Stale runs (made by an older recipe than their entry's "
        "current one) are counted but left out of the statistics.",
    )
    a.add_argument("--runs", type=Path, help="folder of run records (default results/runs)")
    a.add_argument("--out", type=Path, help="output folder (default results)")
    a.add_argument(
        "--submissions", type=Path, help="folder of submission bundles to verify and add (default results/submissions)"
    )
    a.set_defaults(func=_aggregate)

    sm = sub.add_parser(
        "submit",
        help="check an entry of your own package, run it and write a submission bundle",
        description="Checks the entry (card, builds at every tier and dimension, one training step, masked voxels "
        "get no loss or gradient, same seed gives the same output, a smoke run on the embedded data; each failing "
        "check is one line saying what to fix), runs DATASET x FOLDS x SEEDS at TIER into results/runs, and writes "
        "the records, the card, the package's name, version and git commit, the environment (pip freeze) and a "
        "SHA-256 manifest as one .tar.gz. Drop a bundle into results/submissions/ to see it on the leaderboard.",
    )
    sm.add_argument("entry", help="the entry id your package registers (segrepro baselines list)")
    sm.add_argument(
        "--dataset",
        action="append",
        help="a prepared dataset to run on, repeatable (default the embedded synthetic-2d, or -3d for 3-D entries)",
    )
    sm.add_argument("--tier", default="smoke", choices=TIERS)
    add_int_list(sm, "--folds", "F", "folds to run (default 0)", [0])
    add_int_list(sm, "--seeds", "S", "seeds to run (default 0)", [0])
    sm.add_argument("--out", type=Path, help="the bundle to write (default results/bundles/ENTRY-TIER.tar.gz)")
    sm.add_argument("--force", action="store_true", help="replace an existing bundle")
    sm.add_argument("--check-only", action="store_true", help="run the checks only; write nothing")
    sm.add_argument("--quiet", action="store_true", help="no progress output")
    sm.set_defaults(func=_submit)

    ev = sub.add_parser(
        "evaluate",
        help="score your own predictions against a ground truth (one pair, or folders of pairs); prints JSON",
        description="Reads .npy, .tif/.tiff, .png or .nii/.nii.gz files, and the .npz files of segrepro predict "
        "('classes' as --pred, 'probabilities' as --probs), and prints {per_class: {id: {metric: value}}, "
        "mean: {metric: value}}; mean is over foreground classes (1..K-1) unless --include-background "
        "(or a convention that includes class 0, such as fujii2021). Given folders, files are paired by name "
        "without suffix and it prints {images: {name: <scores>}, pooled: <scores>}, pooled as the convention says "
        "(canonical: counts pooled over every image). With --card or --dataset the target and prediction hold raw "
        "label values (as in the dataset's files) that the card maps to classes; its ignore values are masked.",
    )
    ev.add_argument(
        "--target", type=Path, required=True, metavar="T", help="ground-truth class ids (a file, or a folder of files)"
    )
    ev.add_argument(
        "--pred", type=Path, required=True, metavar="P", help="predicted class ids, same shape (file or folder)"
    )
    ev.add_argument(
        "--probs", type=Path, help="class scores, channel first (K, *shape): adds the exact ROC AUC (file or folder)"
    )
    ev.add_argument("--mask", type=Path, help="validity mask, 1 where scored, same shape (file or folder)")
    ev.add_argument(
        "--n-classes",
        type=int,
        metavar="K",
        help="number of classes K (ids 0..K-1); taken from the card with --card/--dataset",
    )
    ev.add_argument(
        "--card", type=Path, metavar="C.yaml", help="YAML dataset card whose classes/ignore map the raw label values"
    )
    ev.add_argument(
        "--dataset", metavar="NAME", help="a registered (or card-prepared) dataset whose card maps the raw label values"
    )
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
    ev.add_argument(
        "--only-predicted",
        action="store_true",
        help="with folders: score only the target files that --pred has (a run's results/predictions/RUN/test "
        "against a prepared dataset's labels/ and masks/); by default every target file needs a prediction",
    )
    ev.add_argument("--quiet", action="store_true", help="no progress bar over folders of pairs")
    ev.set_defaults(func=_evaluate)
    sub.add_parser(
        "conventions", help="the registered scoring conventions (for evaluate --convention) and what each one does"
    ).set_defaults(func=_conventions)

    lb = sub.add_parser(
        "leaderboard",
        help="start the Streamlit leaderboard",
        description="Serve the leaderboard page (Streamlit) until stopped; stopping this command (Ctrl-C, "
        "SIGTERM) stops the server too.",
    )
    lb.add_argument("--port", type=int, default=8501, help="port to serve on (default 8501)")
    lb.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to bind (default 127.0.0.1: this machine only); any other, such as 0.0.0.0, serves "
        "everyone who can reach this machine, with a warning",
    )
    lb.add_argument(
        "--secret",
        help="ask each visitor for this shared secret before showing anything. A simple shared secret, not real "
        "authentication: it travels in clear text over plain HTTP and is the same for everyone; prefer setting "
        "SEGREPRO_LEADERBOARD_SECRET (a command line is visible to other users of this machine)",
    )
    lb.set_defaults(func=_leaderboard)

    cl = sub.add_parser(
        "claims",
        help="test each paper's headline claims (baselines/<paper>/claims.yaml) on the run records",
        description="One verdict per claim, dataset and tier: holds, does not hold (one-sided Wilcoxon signed-rank "
        "test of runs paired on tier, fold and seed), undetermined (too few pairs; says how many are needed) or "
        "not testable here (no runs on that dataset). The paper's datasets first, then transfers: other datasets "
        "where both sides ran.",
    )
    cl.add_argument("--paper", help="only this paper's claims (e.g. 001)")
    cl.add_argument(
        "--runs",
        type=Path,
        action="append",
        metavar="DIR",
        help="folder of run records, repeatable (default results/reference/runs, then results/runs; a later folder "
        "wins on the same run)",
    )
    cl.add_argument(
        "--alpha", type=float, default=0.05, metavar="A", help="significance level of the one-sided test (default 0.05)"
    )
    cl.add_argument(
        "--csv", type=Path, metavar="OUT", help="also write the verdicts to this CSV (and every comparison beside it)"
    )
    cl.set_defaults(func=_claims)

    co = sub.add_parser(
        "compare",
        help="reproduced vs published numbers of one paper as a Markdown table",
        description="The published numbers of a paper that have runs, beside the runs' mean ± std over folds and "
        "seeds, the delta and the verdict, in percent: the leaderboard's 'Reproduced vs published' view as text "
        "(stale runs left out).",
    )
    co.add_argument("--paper", required=True, help="the paper's number (e.g. 001)")
    co.add_argument("--dataset", help="only the numbers published on this dataset")
    co.add_argument("--tier", choices=TIERS, help="only runs of this tier")
    co.add_argument(
        "--runs",
        type=Path,
        action="append",
        metavar="DIR",
        help="folder of run records, repeatable (default results/reference/runs and results/runs)",
    )
    co.add_argument(
        "--on",
        action="append",
        metavar="STAND_IN",
        help="reproduce --dataset's numbers on this dataset instead, repeatable: each number takes the first "
        "stand-in its baseline ran on (rows marked 'not comparable': other data)",
    )
    co.add_argument(
        "--class",
        dest="classes",
        action="append",
        metavar="PUBLISHED=RUN",
        help="read the published class PUBLISHED from the runs' class RUN, repeatable; the published mean is "
        "then the mean over these classes",
    )
    co.add_argument("--metric", action="append", help="only the published numbers of this metric, repeatable")
    co.set_defaults(func=_compare)

    # issue 16: the matrix as a plan, and its executors (local processes, Ray, SLURM)
    from segrepro.plan_cli import add_plan_commands

    add_plan_commands(sub)
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
    except BrokenPipeError:  # the reader went away (``segrepro compare ... | head``): not an error of ours
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error when Python flushes
        return 0
    except OSError as exc:  # a full disk where no writer named the folder (see segrepro.io)
        from segrepro.io import NO_SPACE, no_space_error

        if exc.errno not in NO_SPACE:
            raise
        folder = Path(exc.filename).parent if exc.filename else "the output folder"
        print(f"segrepro: error: {no_space_error(folder)}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
