"""Training a Stable-Baselines3 model until a moving-mean return, the way the baselines run:
one helper for the PPO (sb3_cartpole.py) and DQN/SAC (off_policy.py) child processes."""

from __future__ import annotations

import time
from collections import deque
from typing import Any


def learn_until(
    model: Any,
    env: Any,
    cap: int,
    target: float,
    window: int,
    t_start: float,
    full_window: bool = False,
) -> dict[str, Any]:
    """`model.learn` for at most `cap` env steps, stopped once the mean return of the last
    `window` finished episodes reaches `target` (with `full_window`, only once `window`
    episodes have finished). Returns the fields every baseline child reports."""
    import torch
    from stable_baselines3.common.callbacks import BaseCallback

    class StopAtReturn(BaseCallback):
        """Reads the Monitor's episode infos of this very step (SB3 fills its own
        ep_info_buffer, 100 long, only after the callback has run)."""

        def __init__(self) -> None:
            super().__init__()
            self.returns: deque[float] = deque(maxlen=window)
            self.reached = False

        def _on_step(self) -> bool:
            for info in self.locals["infos"]:
                ep = info.get("episode")
                if ep is not None:
                    self.returns.append(float(ep["r"]))
            enough = len(self.returns) == window if full_window else bool(self.returns)
            if enough and sum(self.returns) / len(self.returns) >= target:
                self.reached = True
                return False
            return True

    cb = StopAtReturn()
    t_learn = time.perf_counter()
    model.learn(total_timesteps=cap, callback=cb)
    t_end = time.perf_counter()
    env.close()
    rets = cb.returns
    return {
        "env_steps": int(model.num_timesteps),
        "reached": cb.reached,
        "return_mean": sum(rets) / len(rets) if rets else None,
        "learn_s": t_end - t_learn,
        "in_process_s": t_end - t_start,
        "torch_threads": torch.get_num_threads(),
    }
