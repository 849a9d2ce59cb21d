"""How many Bytewax processes and workers a flow runs on, and how it is executed.

One process (the default) runs in-process (``bytewax.testing.run_main``). Several processes form one
Bytewax cluster (``bytewax.run.cli_main``): every process runs the same command with its own process id
and the same address list, the way ``python -m bytewax.run -i ID -a "h:p;h:p"`` does; process 0 listens,
the others connect to it. The settings can come from the same environment variables as ``bytewax.run`` and
Bytewax's Helm chart (``BYTEWAX_WORKERS_PER_PROCESS``, ``BYTEWAX_PROCESS_ID``, ``BYTEWAX_ADDRESSES``,
``BYTEWAX_HOSTFILE_PATH``, and the process id from the pod ordinal: ``BYTEWAX_POD_NAME`` minus
``BYTEWAX_STATEFULSET_NAME-``), so a Kubernetes StatefulSet needs no wrapper script.

Stateful steps are keyed (meter, tank, transfer, ...), and Bytewax routes every key to one worker, so a flow
gives the same results on any number of processes; ``tests/integration/test_scale_out.py`` proves it.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from bytewax.dataflow import Dataflow
from bytewax.recovery import RecoveryConfig, init_db_dir
from bytewax.run import cli_main
from bytewax.testing import run_main


@dataclass(frozen=True)
class Scaling:
    """The Bytewax cluster one flow process belongs to.

    Attributes:
        workers: Worker threads in this process.
        process_id: This process's index in ``addresses`` (``None``: a single process).
        addresses: ``host:port`` of every process, process 0 first.
    """

    workers: int = 1
    process_id: int | None = None
    addresses: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.workers < 1:
            raise ValueError(f"workers must be at least 1, not {self.workers}")
        if self.process_id is None and self.addresses:
            raise ValueError("addresses given without a process id")
        if self.process_id is not None:
            if not self.addresses:
                raise ValueError("a process id needs the addresses of every process (or a hostfile)")
            if not 0 <= self.process_id < len(self.addresses):
                raise ValueError(f"process id {self.process_id} is not an index of the {len(self.addresses)} "
                                 "addresses")

    @property
    def processes(self) -> int:
        """Processes in the cluster."""
        return len(self.addresses) or 1

    @property
    def leader(self) -> bool:
        """Whether this is process 0 (the one that does once-per-cluster work, such as auditing the config)."""
        return not self.process_id


def parse_addresses(text: str) -> tuple[str, ...]:
    """``"h:p;h:p"`` (or one address a line, as in a hostfile) as a tuple of addresses."""
    return tuple(a.strip() for a in text.replace("\n", ";").split(";") if a.strip())


def statefulset_addresses(statefulset: str, service: str, namespace: str, replicas: int,
                          port: int = 9999) -> tuple[str, ...]:
    """Stable pod DNS names of a StatefulSet behind a headless Service, pod 0 first (Bytewax chart pattern).

    Args:
        statefulset: StatefulSet name (pods are ``NAME-0`` ... ``NAME-{replicas-1}``).
        service: Headless Service name (the StatefulSet's ``serviceName``).
        namespace: Namespace of both.
        replicas: Pods in the StatefulSet, one Bytewax process each.
        port: Port the processes talk on.
    """
    if replicas < 1:
        raise ValueError(f"replicas must be at least 1, not {replicas}")
    return tuple(f"{statefulset}-{i}.{service}.{namespace}.svc.cluster.local:{port}" for i in range(replicas))


def pod_ordinal(pod_name: str, statefulset: str) -> int:
    """The ordinal of a StatefulSet pod (``flow-meters-1`` of ``flow-meters`` is 1)."""
    prefix = f"{statefulset}-"
    if not pod_name.startswith(prefix) or not pod_name[len(prefix):].isdigit():
        raise ValueError(f"pod {pod_name!r} is not a pod of the StatefulSet {statefulset!r}")
    return int(pod_name[len(prefix):])


def add_scaling_args(parser: argparse.ArgumentParser) -> None:
    """The scale-out options of ``quaywatch run`` (each defaults to its ``BYTEWAX_*`` variable)."""
    g = parser.add_argument_group("scale-out", "one Bytewax cluster over several processes (as bytewax.run -w/-i/-a)")
    g.add_argument("-w", "--workers", type=int, help="worker threads per process ($BYTEWAX_WORKERS_PER_PROCESS; 1)")
    g.add_argument("-i", "--process-id", type=int,
                   help="this process's index in the addresses ($BYTEWAX_PROCESS_ID, or the pod ordinal from "
                        "$BYTEWAX_POD_NAME and $BYTEWAX_STATEFULSET_NAME)")
    g.add_argument("-a", "--addresses", help='every process as "host:port;host:port", process 0 first '
                                             "($BYTEWAX_ADDRESSES)")
    g.add_argument("--hostfile", type=Path, help="file with one host:port a line instead of --addresses "
                                                 "($BYTEWAX_HOSTFILE_PATH)")


def scaling_from(args: argparse.Namespace, env: Mapping[str, str]) -> Scaling:
    """The scaling of a ``quaywatch run`` from its options, else the environment (as ``bytewax.run`` reads it)."""
    workers = args.workers if args.workers is not None else int(env.get("BYTEWAX_WORKERS_PER_PROCESS", "1"))
    pid: int | None = args.process_id
    if pid is None and env.get("BYTEWAX_PROCESS_ID"):
        pid = int(env["BYTEWAX_PROCESS_ID"])
    if pid is None and env.get("BYTEWAX_POD_NAME") and env.get("BYTEWAX_STATEFULSET_NAME"):
        pid = pod_ordinal(env["BYTEWAX_POD_NAME"], env["BYTEWAX_STATEFULSET_NAME"])
    text = args.addresses or env.get("BYTEWAX_ADDRESSES", "")
    hostfile = args.hostfile or (Path(env["BYTEWAX_HOSTFILE_PATH"]) if env.get("BYTEWAX_HOSTFILE_PATH") else None)
    if not text and hostfile is not None and pid is not None:
        text = hostfile.read_text()
    addresses = parse_addresses(text)
    if pid is not None and len(addresses) == 1:
        pid, addresses = None, ()  # a cluster of one is a single process
    return Scaling(workers, pid, addresses)


def recovery_config(rec_dir: Path, scaling: Scaling) -> RecoveryConfig:
    """Recovery partitions in this process's directory: one per process, this process holding its own.

    Bytewax finds the partitions of the whole cluster on the processes' local disks (each pod its own volume),
    so process ``i`` of ``n`` keeps partition ``i`` of ``n``; a single process keeps the only one.
    """
    if not rec_dir.exists() or not any(rec_dir.glob("part-*.sqlite3")):
        rec_dir.mkdir(parents=True, exist_ok=True)
        if scaling.process_id is None:
            init_db_dir(rec_dir, 1)
        else:
            with tempfile.TemporaryDirectory(dir=rec_dir) as tmp:
                init_db_dir(Path(tmp), scaling.processes)
                name = f"part-{scaling.process_id}.sqlite3"
                shutil.move(str(Path(tmp) / name), rec_dir / name)
    return RecoveryConfig(rec_dir)


def execute(flow: Dataflow, scaling: Scaling, epoch_interval: timedelta,
            recovery: RecoveryConfig | None = None) -> None:
    """Run a dataflow to completion on this process's share of the cluster."""
    if scaling.process_id is None and scaling.workers == 1:
        run_main(flow, epoch_interval=epoch_interval, recovery_config=recovery)
        return
    cli_main(flow, workers_per_process=scaling.workers, process_id=scaling.process_id,
             addresses=list(scaling.addresses) or None, epoch_interval=epoch_interval, recovery_config=recovery)


def add_hostfile_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``quaywatch hostfile``: write the Bytewax hostfile of a StatefulSet (its init container runs it)."""
    h = sub.add_parser("hostfile", help="write the host:port of every pod of a flow's StatefulSet (Bytewax hostfile)")
    h.add_argument("--statefulset", required=True, help="StatefulSet name (pods NAME-0 ... NAME-N-1)")
    h.add_argument("--service", help="headless Service (default: the StatefulSet name)")
    h.add_argument("--namespace", help="namespace (default: $POD_NAMESPACE, else default)")
    h.add_argument("--replicas", type=int, required=True, help="pods in the StatefulSet")
    h.add_argument("--port", type=int, default=9999, help="port the processes talk on")
    h.add_argument("--out", type=Path, required=True, help="hostfile to write ($BYTEWAX_HOSTFILE_PATH of the flow)")
    h.set_defaults(func=cmd_hostfile)


def cmd_hostfile(args: argparse.Namespace) -> int:
    """Write the hostfile: one ``host:port`` a line, pod 0 first."""
    namespace = args.namespace or os.environ.get("POD_NAMESPACE") or "default"
    lines = statefulset_addresses(args.statefulset, args.service or args.statefulset, namespace, args.replicas,
                                  args.port)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("".join(f"{a}\n" for a in lines))
    return 0
