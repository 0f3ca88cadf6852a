"""`rlrun evaluate ... output=DIR`: the evaluated episodes, written as `rlrun train output=DIR`
writes sampled ones (rlrun.results.episode_writer), e.g. an expert's data for BC or MARWIL.

The runner samples time-major fragments, as in training, and the writer's cutter turns them
into episodes; each sub-env keeps its first `quota` episodes, decided up front as in
`EnvRunner.sample_episodes`, so short episodes are not over-represented the way "the first N
to finish" would make them.
"""

from __future__ import annotations

import importlib.util
from typing import Any

import numpy as np

from rlrun.errors import ConfigError
from rlrun.results.episode_writer import EpisodeWriter, episode_writer_for

_FRAGMENT = 128  # steps per sub-env per sample() call


def record_evaluation(
    algo: Any, runner: Any, num_episodes: int, output: str, output_format: str, seed: int
) -> tuple[list[float], list[int]]:
    """`Algorithm.evaluate(output=...)`: the writer for `output/<trial name>_evaluation/`, then
    `record_episodes`; the records name the evaluation envs' `seed`."""
    if algo.is_multi_agent:
        raise ConfigError("output", output, "evaluate writes single-agent episodes only")
    if output_format == "parquet" and importlib.util.find_spec("pyarrow") is None:
        raise ConfigError("output_format", "parquet", "needs pyarrow: pip install 'rlrun[output]'")
    cfg = {**algo.config, "output": output, "output_format": output_format, "seed": seed}
    writer = episode_writer_for(cfg, algo._env_obs_space, algo.module_spec)
    assert writer is not None
    writer.rename(f"{writer.name}_evaluation")
    with writer:
        return record_episodes(runner, num_episodes, writer)


def record_episodes(
    runner: Any, num_episodes: int, writer: EpisodeWriter
) -> tuple[list[float], list[int]]:
    """Run `num_episodes` fresh episodes with `runner` (synced already) and write them; returns
    their returns and lengths, in the order written."""
    n = runner.num_envs
    quota = np.full(n, num_episodes // n)
    quota[: num_episodes % n] += 1
    done = np.zeros(n, np.int64)
    returns: list[float] = []
    lengths: list[int] = []
    runner.restart_episodes()
    while (done < quota).any():
        for ro in runner.sample(_FRAGMENT).module_parts():
            kept = []
            for ep in writer.cutter.add(ro):
                if done[ep.env_index] < quota[ep.env_index]:
                    done[ep.env_index] += 1
                    kept.append(ep)
            writer.write_episodes(kept)
            returns += [ep.get_return() for ep in kept]
            lengths += [len(ep) for ep in kept]
    runner.restart_episodes()  # the next sample() starts from fresh episodes
    return returns, lengths
