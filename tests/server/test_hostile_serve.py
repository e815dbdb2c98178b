"""Each hostile dialog of tests/helpers/attacks.py against a real ``gb serve``: it stops with its
error within the budget plus a margin, ``/healthz`` answers within 100 ms (p99) meanwhile, the
server's RSS stays under the ceiling, and another bot keeps accepting sessions and messages."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.helpers.attacks import ATTACKS, attack, wait_for_workers, write_attack_bots
from tests.helpers.servers import Server, gb_environ

BUDGET = 3.0  # max-seconds of the attack bots
CEILING_MB = 128  # max-memory-mb of the attack bots


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("hostile")
    write_attack_bots(root / "bots", f"max-seconds,{BUDGET}\nmax-memory-mb,{CEILING_MB}\nmax-steps,1000000000")
    with Server(gb_environ(root / "bots", root / "data"), root / "serve.log") as s:
        wait_for_workers(s)
        yield s


@pytest.mark.parametrize("name", list(ATTACKS))
def test_an_attack_stops_and_the_server_stays_responsive(server: Server, name: str) -> None:
    m = attack(server, name)
    assert m.status == 200
    assert ATTACKS[name].expect in m.error, m.error
    assert ATTACKS[name].expect or "Error" not in m.error, m.error
    assert m.seconds < BUDGET + 2.0, m.seconds
    assert m.health_errors == 0
    assert not m.probe_error, m.probe_error
    assert m.health_p99 < 0.1, f"/healthz p99 {m.health_p99 * 1000:.0f} ms, max {m.health_max * 1000:.0f} ms"
    assert m.peak_rss_mb - m.base_rss_mb < CEILING_MB + 64, (m.base_rss_mb, m.peak_rss_mb)
    assert max(m.bystander) < 2.5, m.bystander  # a new session and a message, on a shared 2-core box
