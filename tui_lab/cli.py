"""The `tui-lab` command.

    tui-lab                         open the lab (scenario picker)
    tui-lab SCENARIO                open the lab on one scenario
    tui-lab --open RUN_DIR          open the lab on a trained checkpoint (run --out, or saved)
    tui-lab --open FILE.safetensors --scenario NAME [--set k=v]...
                                    open NAME with weights saved from PyTorch (tui_lab/interop.py)
    tui-lab run SCENARIO [--set k=v]... [--seed N] [--out DIR] [--resume DIR] [--json]
    tui-lab list                    bundled scenarios as a table
    tui-lab check FILE.toml         validate only
    tui-lab bench                   kernel throughput on this machine
    tui-lab sweep SCENARIO [--seeds 0-4] [--grid k=v1,v2]... [--set k=v]... --out DIR
                    [--workers N | --scheduler ADDRESS] [--threshold METRIC>=VALUE]... [--json]
    tui-lab serve                   the lab in a browser (needs the `serve` extra)

Bad input exits 2 with one line that names the file, the key and what was
expected; never a traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import zipfile
from pathlib import Path

from tui_lab.scenario import ScenarioError

COMMANDS = ("run", "sweep", "list", "check", "bench", "serve")


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # argparse's own exit code is 2 as well; keep one line
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: error: {message}\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="tui-lab", description="Watch recurrent and memory networks think.")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)

    run = sub.add_parser("run", help="train a scenario headless")
    run.add_argument("scenario", help="a .toml path or a bundled scenario name")
    run.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="SECTION.KEY=VALUE",
        help="override a scenario value (repeatable)",
    )
    run.add_argument("--seed", type=int, help="override scenario.seed")
    run.add_argument(
        "--out", type=Path, help="write summary.json, metrics.jsonl, checkpoint.npz, ..."
    )
    run.add_argument("--resume", type=Path, metavar="DIR", help="continue the run saved in DIR")
    run.add_argument("--json", action="store_true", help="print summary.json to stdout")
    run.add_argument("--quiet", action="store_true", help="no progress bar")

    _add_sweep_parser(sub)
    sub.add_parser("list", help="bundled scenarios")
    check = sub.add_parser("check", help="validate a scenario file")
    check.add_argument("file")
    check.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE")
    bench = sub.add_parser("bench", help="kernel throughput on this machine")
    bench.add_argument("--quick", action="store_true", help="fewer repetitions")
    serve = sub.add_parser("serve", help="serve the lab in a browser on localhost")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("scenario", nargs="?")
    return parser


def _add_sweep_parser(sub) -> None:
    sweep = sub.add_parser(
        "sweep",
        help="run a scenario over seeds and a grid of settings (on Dask)",
        description="One `tui-lab run` per (grid point x seed), on a local Dask cluster or "
        "on one started with `dask scheduler` / `dask worker`. Writes DIR/runs/<id>/ (what "
        "run --out writes), DIR/sweep.jsonl, DIR/sweep.csv and DIR/sweep-summary.json, and "
        "prints mean +- sd per grid point. The same command again skips finished runs.",
    )
    sweep.add_argument("scenario", help="a .toml path or a bundled scenario name")
    sweep.add_argument("--seeds", metavar="SEEDS", help="0-4 (default), 0,3,7 or 0-2,9")
    sweep.add_argument(
        "--grid",
        action="append",
        default=[],
        metavar="SECTION.KEY=V1,V2,...",
        help="a grid axis (repeatable; every combination runs)",
    )
    sweep.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="SECTION.KEY=VALUE",
        help="a value for every run (repeatable)",
    )
    sweep.add_argument("--out", type=Path, required=True, metavar="DIR", help="the sweep's folder")
    sweep.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help="local worker processes, one thread each (default: the number of cores)",
    )
    sweep.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run on an existing Dask cluster, e.g. tcp://127.0.0.1:8786",
    )
    sweep.add_argument(
        "--threshold",
        action="append",
        default=[],
        metavar="METRIC<=VALUE|METRIC>=VALUE",
        help="a claim to count: 'k of n met' per grid point (repeatable)",
    )
    sweep.add_argument("--json", action="store_true", help="print the summary as JSON")
    sweep.add_argument(
        "--dry-run",
        action="store_true",
        help="validate and list the runs (id and --set of each), run nothing",
    )
    sweep.add_argument("--quiet", action="store_true", help="no progress bar or run lines")


def _open_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="tui-lab",
        description="Open the lab. Subcommands: " + ", ".join(COMMANDS) + " (tui-lab CMD --help).",
    )
    parser.add_argument("scenario", nargs="?", help="a .toml path or a bundled scenario name")
    parser.add_argument(
        "--scenarios",
        action="append",
        default=[],
        type=Path,
        metavar="DIR",
        help="add a folder of your own scenario files to the picker",
    )
    parser.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE")
    parser.add_argument(
        "--open",
        type=Path,
        metavar="PATH",
        help="a checkpoint.npz, or a folder with one (tui-lab run --out DIR): "
        "step through the trained model; or a .safetensors file of PyTorch weights "
        "(with --scenario)",
    )
    parser.add_argument(
        "--scenario",
        dest="weights_scenario",
        metavar="NAME",
        help="with --open FILE.safetensors: the scenario whose model the weights fit",
    )
    return parser


def safetensors_lab(path: Path, name: str | None, overrides: list[str]):
    """The scenario `name` (with --set overrides) built with the weights of a safetensors
    file saved from torch; names or shapes that do not fit are a ScenarioError (exit 2)."""
    from tui_lab.interop import load_weights
    from tui_lab.registry import build_lab

    if not name:
        raise ScenarioError(
            f"--open {path}: a .safetensors file holds weights only; name the scenario "
            "whose model they fit: --scenario NAME"
        )
    # The scenario records the file, so a lab the app rebuilds from it keeps these weights.
    loaded = _load(name, overrides, None).with_value("model.weights", str(path.resolve()))
    lab = build_lab(loaded, initial_weights=False)
    load_weights(lab, path, f"--open {path}")
    return lab


def checkpoint_lab(path: Path):
    """The lab saved at `path` (a .npz, or a folder holding checkpoint.npz); a missing or
    unreadable file is a ScenarioError (exit 2), not a traceback."""
    from tui_lab.registry import load_checkpoint

    file = path / "checkpoint.npz" if path.is_dir() else path
    if not file.exists():
        where = (
            f"{path}: no checkpoint.npz in that folder"
            if path.is_dir()
            else f"{path}: no such file"
        )
        raise ScenarioError(f"--open {where}")
    expected = "expected the .npz that `tui-lab run --out` or the lab's Save writes"
    if not zipfile.is_zipfile(file):
        raise ScenarioError(f"--open {file}: not a tui-lab checkpoint ({expected})")
    try:
        return load_checkpoint(file)
    except (ValueError, KeyError, OSError) as error:
        what = f"no {error.args[0]!r} entry" if isinstance(error, KeyError) else str(error)
        raise ScenarioError(
            f"--open {file}: not a tui-lab checkpoint ({expected}): {what}"
        ) from None


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] != "bench":
        # One compute thread runs every kernel. The recurrent cells' products are their own
        # (kernels/_gemm.py) and thread themselves; what still goes through numpy's BLAS
        # (output layers, attention) is mid-sized, and OpenBLAS's worker threads spin for
        # such products and, on a busy machine, made training up to 8x slower. `bench`
        # keeps the library default. Takes effect only before numpy loads, i.e. from the
        # console script.
        os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    try:
        if argv and argv[0] in COMMANDS:
            return _dispatch(_parser().parse_args(argv))
        if argv and argv[0] in ("-h", "--help"):
            _open_parser().print_help()
            print("\ncommands:\n  " + "\n  ".join(COMMANDS))
            return 0
        return _open(_open_parser().parse_args(argv))
    except ScenarioError as error:
        print(f"tui-lab: {error}", file=sys.stderr)
        return 2


def _dispatch(args) -> int:
    if args.command == "run":
        return _run(args)
    if args.command == "sweep":
        return _sweep(args)
    if args.command == "list":
        return _list()
    if args.command == "check":
        from tui_lab import registry

        loaded = registry.load(args.file).with_overrides(args.set)
        print(f"{args.file}: ok ({loaded.kind}: {loaded.name})")
        return 0
    if args.command == "bench":
        return _bench(args.quick)
    if args.command == "serve":
        try:
            from tui_lab.app.serve import serve
        except ImportError as error:
            print(
                f"tui-lab serve needs the serve extra: pip install 'tui-lab[serve]' ({error})",
                file=sys.stderr,
            )
            return 2
        serve(host=args.host, port=args.port, scenario_name=args.scenario)
        return 0
    raise AssertionError(args.command)


def _load(name: str, overrides: list[str], seed: int | None):
    from tui_lab import registry

    loaded = registry.resolve(name)
    if seed is not None:
        overrides = [*overrides, f"scenario.seed={seed}"]
    return loaded.with_overrides(overrides) if overrides else loaded


def _run(args) -> int:
    from rich.console import Console

    from tui_lab import runner

    loaded = _load(args.scenario, args.set, args.seed)
    if args.out is not None and args.out.exists() and not args.out.is_dir():
        raise ScenarioError(f"--out {args.out}: exists and is not a folder")
    result = runner.run(loaded, args.out, args.resume, quiet=args.quiet)
    if args.json:
        print(json.dumps(result.summary, indent=2))
    else:
        Console().print(runner.metrics_table(result.summary))
    if result.exit_code == runner.EXIT_DIVERGED:
        print(
            f"tui-lab: {result.summary['status']}; last good checkpoint kept"
            + (f" in {args.out or args.resume}" if (args.out or args.resume) else ""),
            file=sys.stderr,
        )
    elif result.exit_code == runner.EXIT_INTERRUPTED:
        print("tui-lab: interrupted; checkpoint of the last finished update saved", file=sys.stderr)
    return result.exit_code


def _sweep(args) -> int:
    from rich.console import Console

    from tui_lab.sweep import build_plan, run_sweep
    from tui_lab.sweep.execute import finished_summary
    from tui_lab.sweep.results import comparison_table, point_table

    if args.workers is not None and args.scheduler is not None:
        raise ScenarioError(
            "--workers: the cluster at --scheduler brings its own workers; give one of the two"
        )
    if args.workers is not None and args.workers < 1:
        raise ScenarioError(f"--workers {args.workers}: expected a whole number >= 1")
    if args.out.exists() and not args.out.is_dir():
        raise ScenarioError(f"--out {args.out}: exists and is not a folder")
    plan = build_plan(args.scenario, args.seeds, args.grid, args.set, args.threshold)
    if args.dry_run:
        for spec in plan.runs:
            done = " (finished)" if finished_summary(args.out, spec) else ""
            print(f"{spec.run_id}{done}: --set " + " --set ".join(spec.overrides))
        print(f"{len(plan.runs)} runs in {args.out / 'runs'}", file=sys.stderr)
        return 0
    result = run_sweep(plan, args.out, args.workers, args.scheduler, quiet=args.quiet)
    if args.json:
        print(json.dumps(result.summary, indent=2))
    else:
        console = Console()
        for point in result.points:
            console.print(point_table(point))
        measured = [point for point in result.points if point.metrics]
        if len(result.points) > 1 and measured:
            from tui_lab.sweep.execute import headline

            names = list(headline(plan.scenario.kind, dict.fromkeys(measured[0].metrics, 0.0)))
            console.print(comparison_table(result.points, names))
    if result.exit_code == 130:
        print("tui-lab: sweep interrupted; the same command runs the rest", file=sys.stderr)
    return result.exit_code


def _list() -> int:
    from rich.console import Console
    from rich.table import Table

    from tui_lab import registry

    table = Table(title="bundled scenarios")
    for column in ("name", "topic", "kind", "title"):
        table.add_column(column)
    for path in registry.bundled_paths():
        try:
            loaded = registry.load(path)
            table.add_row(path.stem, loaded.topic, loaded.kind, loaded.name)
        except ScenarioError as error:
            table.add_row(path.stem, "", "", f"[red]invalid: {error}")
    Console().print(table)
    return 0


def _bench(quick: bool) -> int:
    from rich.console import Console
    from rich.table import Table

    from tui_lab.bench import run_bench
    from tui_lab.bench_machine import blas_info, lstm_rows, sgemm_gflops

    console = Console()
    with console.status("timing numpy's BLAS ..."):
        blas, sgemm = blas_info(), sgemm_gflops(quick=quick)
    details = ", ".join(f"{key} {value}" for key, value in blas.items())
    console.print(f"sgemm {sgemm:.1f} GFLOP/s (numpy float32 1024 x 1024); BLAS: {details}")
    import numba

    console.print(
        f"our recurrent cells: their own products (no BLAS) on {numba.get_num_threads()} "
        "Numba thread(s) (NUMBA_NUM_THREADS sets it)"
    )
    with console.status("compiling and timing kernels ..."):
        tables = [
            ("LSTM vs plain numpy, float32, T = 50", lstm_rows(quick=quick, sgemm=sgemm)),
            ("kernel throughput on this machine", run_bench(quick=quick)),
        ]
    for title, rows in tables:
        table = Table(title=title)
        for column in rows[0]:
            table.add_column(column)
        for row in rows:
            table.add_row(*(f"{v:.2f}" if isinstance(v, float) else str(v) for v in row.values()))
        console.print(table)
    return 0


def _open(args) -> int:
    from tui_lab import registry

    weights_file = args.open is not None and args.open.suffix == ".safetensors"
    if args.weights_scenario and not weights_file:
        raise ScenarioError("--scenario NAME goes with --open FILE.safetensors")
    if weights_file:
        lab = safetensors_lab(args.open, args.weights_scenario or args.scenario, args.set)
    elif args.open is not None and (args.scenario or args.set):
        raise ScenarioError(
            "--open takes the scenario stored in the checkpoint: give no SCENARIO or --set"
        )
    else:
        lab = checkpoint_lab(args.open) if args.open is not None else None
    loaded = (
        lab.scenario if lab else _load(args.scenario, args.set, None) if args.scenario else None
    )
    for folder in args.scenarios:
        registry.load_folder(folder)  # validate now: a bad file is exit 2, not a crash
    try:
        from tui_lab.app import run_app
    except ImportError:  # the screen has not landed: run the scenario headless instead
        from tui_lab import runner

        result = runner.run(loaded or registry.resolve("char-textgen"))
        from rich.console import Console

        Console().print(runner.metrics_table(result.summary))
        return result.exit_code
    run_app(loaded, tuple(args.scenarios), lab=lab)
    return 0


if __name__ == "__main__":
    sys.exit(main())
