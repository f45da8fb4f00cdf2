"""Run a plan's runs on this machine (``local``: N processes), a Ray cluster (``ray``: one task per run) or
SLURM (``slurm``: one submitit job array). Every executor runs the same ``run_one`` on each run spec: the
engine's ``execute`` (fit, resuming an unfinished checkpoint; predict; score), so a done run is skipped, a
killed run resumes from its checkpoint and a failed run is recorded while the others go on.

Ray and submitit are optional (``pip install 'segrepro[cluster]'``); they are imported only when used.
"""

from __future__ import annotations

import concurrent.futures
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from tqdm import tqdm

from segrepro import paths
from segrepro.errors import UserError
from segrepro.plan import DONE, FAILED, STALE, record_state
from segrepro.runspec import RunSpec

EXTRA = "pip install 'segrepro[cluster]'"  # the optional extra that brings Ray and submitit


@dataclass(frozen=True)
class RunResult:
    run_id: str
    state: str  # "done" (ok record written), "skipped" (already done), "failed"
    reason: str | None = None
    resumed: bool = False  # it continued from a checkpoint left by an earlier, unfinished attempt
    seconds: float = 0.0


def _dirs() -> dict[str, str]:
    """The data and results folders as absolute paths, for workers whose working directory differs."""
    data, results = paths.data_dir().resolve(), paths.results_dir().resolve()
    return {"SEGREPRO_DATA_DIR": str(data), "SEGREPRO_RESULTS_DIR": str(results)}


def run_one(fields: dict[str, Any], threads: int, dirs: dict[str, str]) -> dict[str, Any]:
    """One run in a worker process (any executor): skip it if done, else ``execute`` it (``force`` for a
    failed or stale record); the result as a plain dict (it crosses process boundaries)."""
    os.environ.update(dirs)
    import torch

    from segrepro.baselines import get_baseline
    from segrepro.protocol import execute

    torch.set_num_threads(max(1, threads))
    spec = RunSpec(**fields)
    t0 = time.perf_counter()
    try:
        state = record_state(spec, get_baseline(spec.baseline).recipe(spec.tier).hash())
        if state == DONE:
            return asdict(RunResult(spec.run_id, "skipped"))
        force = state in (FAILED, STALE)
        resumed = not force and spec.checkpoint.exists()
        record = execute(spec, progress=False, force=force).record
    except UserError as exc:
        return asdict(RunResult(spec.run_id, FAILED, str(exc), seconds=time.perf_counter() - t0))
    ok = record["status"] == "ok"
    reason = None if ok else record.get("reason")
    return asdict(RunResult(spec.run_id, DONE if ok else FAILED, reason, resumed, time.perf_counter() - t0))


def _fields(spec: RunSpec) -> dict[str, Any]:
    return {"dataset": spec.dataset, "baseline": spec.baseline, "fold": spec.fold, "seed": spec.seed, "tier": spec.tier}


@dataclass
class Tally:
    """The progress bar's counts and the results so far."""

    total: int
    progress: bool = True
    results: list[RunResult] = field(default_factory=list)
    running: int = 0

    def __post_init__(self) -> None:
        self.bar = tqdm(total=self.total, desc="runs", unit="run", disable=not self.progress, file=sys.stderr)
        self._show()

    def _show(self) -> None:
        failed = sum(r.state == FAILED for r in self.results)
        self.bar.set_postfix_str(f"done {len(self.results) - failed}, failed {failed}, running {self.running}")

    def started(self, n: int = 1) -> None:
        self.running += n
        self._show()

    def finished(self, result: RunResult) -> None:
        self.results.append(result)
        self.running = max(0, self.running - 1)
        self.bar.update(1)
        self._show()

    def close(self) -> list[RunResult]:
        self.bar.close()
        return self.results


def _crashed(spec: RunSpec, why: str, seconds: float = 0.0) -> RunResult:
    return RunResult(spec.run_id, FAILED, why, seconds=seconds)


# --- local: N worker processes, torch threads divided among them -------------------------------------------


def _local_worker(spec: RunSpec, threads: int, dirs: dict[str, str]) -> RunResult:
    """``run_one`` in a fresh Python process, so a crash or kill of one run never takes the others down."""
    t0 = time.perf_counter()
    env = {**os.environ, **dirs, "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}
    cmd = [sys.executable, "-m", "segrepro.executors", json.dumps(_fields(spec)), str(threads)]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        tail = (done.stderr.strip().splitlines() or [f"exit status {done.returncode}"])[-1]
        return _crashed(spec, f"worker exited with status {done.returncode}: {tail}", time.perf_counter() - t0)
    return RunResult(**json.loads(lines[-1]))


def run_local(specs: list[RunSpec], jobs: int, tally: Tally, threads: int | None = None) -> None:
    """``jobs`` runs at once, each in its own process with ``threads`` torch threads (default: CPUs / jobs)."""
    if jobs < 1:
        raise UserError(f"--jobs must be 1 or more, not {jobs}")
    threads = threads or max(1, (os.cpu_count() or 1) // jobs)
    dirs = _dirs()
    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:

        def submit(spec: RunSpec) -> concurrent.futures.Future[RunResult]:
            def work() -> RunResult:
                tally.started()
                return _local_worker(spec, threads, dirs)

            return pool.submit(work)

        for future in concurrent.futures.as_completed([submit(s) for s in specs]):
            tally.finished(future.result())


# --- ray: one task per run ----------------------------------------------------------------------------------


def _import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise UserError(f"the ray executor needs Ray, which is not installed: {EXTRA}") from None
    return ray


def check_reachable(address: str, timeout: float = 5.0) -> None:
    """A ``host:port`` (or ``ray://host:port``) that accepts connections, else a one-line ``UserError``
    (``ray.init`` would retry for a minute or more before failing)."""
    if address in ("auto", "local"):
        return
    hostport = address.removeprefix("ray://")
    host, _, port = hostport.rpartition(":")
    if not host or not port.isdigit():
        raise UserError(f"--address {address!r} is not HOST:PORT (or ray://HOST:PORT, or auto)")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout).close()
    except OSError as exc:
        raise UserError(
            f"cannot reach the Ray cluster at {address} ({exc.strerror or type(exc).__name__}); start it with "
            "`ray start --head` on the head node, or check the address and port"
        ) from None


def run_ray(specs: list[RunSpec], address: str | None, threads: int, tally: Tally) -> None:
    """One Ray task per run: ``num_gpus=1`` where the cluster has GPUs, ``threads`` CPUs each. An already
    connected session (``ray.init`` by the caller) is used as it is."""
    ray = _import_ray()
    if not ray.is_initialized():
        if address is not None:
            check_reachable(address)
        try:
            ray.init(address=address, log_to_driver=False, configure_logging=False)
        except Exception as exc:  # Ray raises a bare Exception too, e.g. when a local node times out starting
            where = f"the Ray cluster at {address}" if address else "a new local Ray instance"
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise UserError(f"cannot connect to {where}: {first}") from None
    gpus = 1 if ray.cluster_resources().get("GPU", 0) >= 1 else 0
    task = ray.remote(run_one).options(num_cpus=threads, num_gpus=gpus, max_retries=1)
    dirs = _dirs()
    pending = {task.remote(_fields(s), threads, dirs): s for s in specs}
    tally.started(len(pending))
    while pending:
        ready, _ = ray.wait(list(pending), num_returns=1)
        spec = pending.pop(ready[0])
        try:
            tally.finished(RunResult(**ray.get(ready[0])))
        except ray.exceptions.RayError as exc:  # the worker died (killed, out of memory) and its retry too
            tally.finished(_crashed(spec, f"Ray task failed: {str(exc).splitlines()[0]}"))


# --- slurm: one submitit job array --------------------------------------------------------------------------


@dataclass(frozen=True)
class SlurmOptions:
    partition: str | None = None
    gpus: int = 0  # per job
    time_min: int = 120
    mem_gb: int = 16
    cpus: int = 4
    parallel: int = 64  # at most this many array jobs at once
    folder: Path = Path("results/slurm")
    cluster: str = "slurm"  # "local": submitit's local executor, on this machine (for tests and trials)

    def sbatch(self) -> dict[str, Any]:
        """The parameters of submitit's ``SlurmExecutor`` (each becomes an ``#SBATCH`` line)."""
        params: dict[str, Any] = {
            "time": self.time_min,
            "mem": f"{self.mem_gb}GB",
            "cpus_per_task": self.cpus,
            "array_parallelism": self.parallel,
            "job_name": "segrepro",
        }
        if self.partition:
            params["partition"] = self.partition
        if self.gpus:
            params["gpus_per_node"] = self.gpus
        return params


def _import_submitit() -> Any:
    try:
        import submitit
    except ImportError:
        raise UserError(f"the slurm executor needs submitit, which is not installed: {EXTRA}") from None
    return submitit


def sbatch_preview(options: SlurmOptions, n_runs: int) -> str:
    """The sbatch script submitit would submit for ``n_runs`` runs (its own template, shown by --dry-run)."""
    _import_submitit()
    from submitit.slurm.slurm import _make_sbatch_string

    command = f"{sys.executable} -u -m submitit.core._submit {options.folder.resolve()}/%j"
    return _make_sbatch_string(command=command, folder=options.folder.resolve(), map_count=n_runs, **options.sbatch())


def run_slurm(specs: list[RunSpec], options: SlurmOptions, threads: int, tally: Tally) -> None:
    """One job array (submitit ``map_array``); ``cluster='local'`` runs it with submitit's local executor."""
    submitit = _import_submitit()
    if options.cluster == "local":
        executor: Any = submitit.LocalExecutor(folder=options.folder)
        executor.update_parameters(timeout_min=options.time_min)
    else:
        try:
            executor = submitit.SlurmExecutor(folder=options.folder)
        except RuntimeError:  # submitit found no srun
            raise UserError(
                "no SLURM on this machine (srun not found): run this on a SLURM login node, "
                "or give --cluster local to try the job array here"
            ) from None
        executor.update_parameters(**options.sbatch())
    dirs = _dirs()
    try:
        jobs = executor.map_array(run_one, [_fields(s) for s in specs], [threads] * len(specs), [dirs] * len(specs))
    except (submitit.core.utils.FailedJobError, OSError) as exc:
        raise UserError(f"submitting the job array failed: {str(exc).splitlines()[0]}") from None
    array = jobs[0].job_id.split("_")[0]
    print(f"submitted job array {array} ({len(jobs)} runs); logs in {options.folder}", file=sys.stderr)
    tally.started(len(jobs))
    pending = dict(zip(jobs, specs, strict=True))
    while pending:
        for job in [j for j in pending if j.done()]:
            spec = pending.pop(job)
            try:
                tally.finished(RunResult(**job.result()))
            except Exception as exc:  # the job died (killed, timed out): submitit raises its error here
                tally.finished(_crashed(spec, f"job {job.job_id} failed: {str(exc).strip().splitlines()[-1]}"))
        time.sleep(0.5)


def write_outcomes(plan: Path, results: Iterable[RunResult]) -> Path:
    """Every run's outcome, failures with their reason (also those refused before a record could be made,
    such as corrupted data), as JSON lines in ``results/plans/<plan name>.outcomes.jsonl`` (atomic)."""
    from segrepro.io import write_text_atomic

    out = paths.results_dir() / "plans" / f"{plan.name}.outcomes.jsonl"
    write_text_atomic(out, "".join(json.dumps(asdict(r)) + "\n" for r in results))
    return out


def summary(results: Iterable[RunResult], outcomes: Path) -> str:
    """The one final line: how many ran, were skipped or failed (named), and where the records are."""
    results = list(results)
    failed = [r.run_id for r in results if r.state == FAILED]
    done = sum(r.state == DONE for r in results)
    skipped = sum(r.state == "skipped" for r in results)
    line = f"{done} done, {skipped} already done, {len(failed)} failed; records in {paths.runs_dir()}"
    line += f", outcomes in {outcomes}"
    return line + (f"; failed: {', '.join(failed)}" if failed else "")


if __name__ == "__main__":  # the local executor's worker: python -m segrepro.executors FIELDS_JSON THREADS
    print(json.dumps(run_one(json.loads(sys.argv[1]), int(sys.argv[2]), {})))
