"""Scale-out options: the same settings and environment variables as ``bytewax.run`` and Bytewax's chart."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from flows.scaling import Scaling, add_scaling_args, pod_ordinal, scaling_from, statefulset_addresses


def _args(*argv: str) -> argparse.Namespace:
    p = argparse.ArgumentParser()
    add_scaling_args(p)
    return p.parse_args(list(argv))


def test_single_process_by_default() -> None:
    s = scaling_from(_args(), {})
    assert s == Scaling(1, None, ()) and s.processes == 1 and s.leader


def test_options_as_bytewax_run() -> None:
    s = scaling_from(_args("-i", "1", "-a", "h0:2101;h1:2101", "-w", "2"), {})
    assert (s.workers, s.process_id, s.addresses, s.processes, s.leader) == (2, 1, ("h0:2101", "h1:2101"), 2, False)


def test_process_id_from_the_pod_ordinal_and_addresses_from_the_hostfile(tmp_path: Path) -> None:
    hostfile = tmp_path / "hostfile"
    hostfile.write_text("\n".join(statefulset_addresses("flow-meters", "flow-meters", "quaywatch", 3)) + "\n")
    env = {"BYTEWAX_POD_NAME": "flow-meters-2", "BYTEWAX_STATEFULSET_NAME": "flow-meters",
           "BYTEWAX_HOSTFILE_PATH": str(hostfile), "BYTEWAX_WORKERS_PER_PROCESS": "1"}
    s = scaling_from(_args(), env)
    assert s.process_id == 2
    assert s.addresses[2] == "flow-meters-2.flow-meters.quaywatch.svc.cluster.local:9999"
    assert s.addresses[0].startswith("flow-meters-0.") and len(s.addresses) == 3


def test_a_cluster_of_one_runs_as_a_single_process() -> None:
    assert scaling_from(_args(), {"BYTEWAX_PROCESS_ID": "0", "BYTEWAX_ADDRESSES": "h:1"}) == Scaling()


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError):
        Scaling(1, 2, ("a:1", "b:1"))  # no process 2 among two
    with pytest.raises(ValueError):
        Scaling(1, 0, ())
    with pytest.raises(ValueError):
        Scaling(0)
    with pytest.raises(ValueError):
        pod_ordinal("grafana-0", "flow-meters")
    assert pod_ordinal("flow-meters-10", "flow-meters") == 10
