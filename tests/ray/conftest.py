"""One local Ray for all in-process Ray tests (starting one costs seconds).

It is started with ray.init directly, not rlrun.cluster.init_ray, so rlrun code under test
treats it as a cluster it joined and never shuts it down between tests.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def ray_session() -> Iterator[None]:
    import ray

    if not ray.is_initialized():
        # Logical CPUs beyond the machine's 2: actors here mostly wait, and tests must not
        # queue behind each other's actors.
        # address="local": a Ray of this session's own, never a cluster left on the machine.
        ray.init(
            address="local",
            num_cpus=6,
            include_dashboard=False,
            logging_level="ERROR",
            namespace="rlrun",
        )
    yield
    ray.shutdown()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.ray)
