"""Self-play: copy the learning module's weights into a frozen opponent every few iterations.

Use it as a callback class (`callbacks: [rlrun.callbacks.self_play:SelfPlay]`) with the
modules named `main` (in multi_agent.policies_to_train) and `main_opponent` (not), or subclass
it to change the names and the interval:

    class MySelfPlay(SelfPlay):
        main = "learner"
        opponent = "past_self"
        every_n_iterations = 10

The opponent starts as a random network (a near-uniform player, with action masks a legal
one) and is replaced by a snapshot of `main` every `every_n_iterations`, so `main` always
trains against a recent version of itself (RLlib's self-play example does the same from its
`on_train_result`). The copy goes to the learners and then to every env runner before the
next iteration samples.
"""

from __future__ import annotations

from typing import Any, ClassVar


class SelfPlay:
    main: ClassVar[str] = "main"
    opponent: ClassVar[str] = "main_opponent"
    every_n_iterations: ClassVar[int] = 5

    def on_train_result(self, *, algorithm: Any, result: dict[str, Any]) -> None:
        if algorithm.iteration % self.every_n_iterations == 0:
            algorithm.copy_module_weights(self.main, self.opponent)
            result["self_play_snapshots"] = algorithm.iteration // self.every_n_iterations
