"""evaluation.duration=auto: remote evaluation runners evaluate beside training for as long
as the training step takes (measured the previous time; the first evaluation lasts 1 s)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.usefixtures("ray_session")


def test_auto_duration_evaluates_beside_training_for_a_training_steps_time():
    import rlrun

    algo = rlrun.build(
        [
            "algo.train_batch_size_per_learner=2000",
            "algo.minibatch_size=500",
            "algo.num_epochs=2",
            "evaluation.interval=1",
            "evaluation.num_env_runners=1",
            "evaluation.num_cpus_per_env_runner=0.5",
            "evaluation.parallel_to_training=true",
            "evaluation.duration=auto",
        ]
    )
    try:
        results = [algo.train() for _ in range(2)]
    finally:
        algo.stop()
    for r in results:
        ev = r["evaluation"]["env_runners"]
        assert ev["num_env_steps_sampled"] > 0 and ev["num_episodes"] > 0
    # The second evaluation is sized by the first training step's time, not by a count.
    assert results[1]["evaluation"]["time_s"] == pytest.approx(
        results[0]["time_this_iter_s"], rel=0.6, abs=0.5
    )
