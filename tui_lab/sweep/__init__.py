"""Sweeps: one scenario over seeds and a grid of settings, on Dask.

plan.py     arguments -> validated RunSpecs (every grid point checked before any run)
worker.py   what a Dask worker does for one run (exactly `tui-lab run`)
cluster.py  a LocalCluster here, or the cluster at --scheduler
execute.py  submit, record each run as it finishes, resume, Ctrl-C
results.py  sweep.jsonl, sweep.csv, the aggregate per grid point and its tables
"""

from tui_lab.sweep.execute import SweepResult, run_sweep
from tui_lab.sweep.plan import SweepPlan, build_plan

__all__ = ["SweepPlan", "SweepResult", "build_plan", "run_sweep"]
