"""The text of `rlrun --help`, `rlrun train --help` and `rlrun evaluate --help`.

Built from what is there: the registry's algorithms, the config groups' options and the tuned
examples in conf/experiment/. Imports only the standard library and rlrun's light modules.
"""

from __future__ import annotations

from pathlib import Path

COMMANDS = {
    "train": "train an algorithm:  rlrun train [group=option ...] [key=value ...]",
    "evaluate": "run a checkpoint's policy:  rlrun evaluate checkpoint=PATH [episodes=N] ...",
    "compare": "plot and tabulate trials:  rlrun compare DIR [DIR ...] [--metric KEY]",
    "convert": "an RLlib tuned-example YAML as rlrun experiment YAML:  rlrun convert file=x.yaml",
    "help": "this text; `rlrun <command> --help` says more",
}

EXAMPLES = """\
  rlrun train                                        # PPO on CartPole-v1, the defaults
  rlrun train algo=ppo env=CartPole-v1 seed=1
  rlrun train experiment=cartpole_ppo                # a tuned example
  rlrun train experiment=cartpole_dqn                # DQN (Rainbow options), docs/off_policy.md
  rlrun train algo=sac env=Pendulum-v1               # SAC
  rlrun train experiment=cartpole_appo               # APPO / IMPALA (V-trace), docs/impala_appo.md
  rlrun train experiment=stateless_cartpole_ppo_lstm # an LSTM policy (docs/models.md)
  rlrun train experiment=multi_agent_cartpole_ppo    # multi-agent: a module per agent (docs/multi_agent.md)
  rlrun train experiment=tictactoe_selfplay_ppo      # PettingZoo, action masks, self-play
  rlrun train env=ALE/Pong-v5                        # Atari: Gymnasium's DeepMind wrappers, a CNN
  rlrun train env=MountainCar-v0 algo.lr=1e-3 stop.timesteps=200000
  rlrun train env=my_pkg.envs:MyEnv env.env_config.size=8
  rlrun train env_runner=ray                         # sample in 2 Ray actors (docs/ray.md)
  rlrun train env_runner=ray ray.address=auto        # ... on a running Ray cluster
  rlrun train --cfg algo.gamma=0.95                  # print the composed config, train nothing
  rlrun evaluate checkpoint=~/ray_results/<experiment>/<trial>/checkpoint_000010 episodes=20
  rlrun evaluate checkpoint=... episodes=20 output=/data/expert   # record episodes (docs/offline.md)
  rlrun train experiment=cartpole_bc                 # BC (algo=marwil: MARWIL) from recorded episodes
  rlrun train experiment=pendulum_cql                # CQL (on SAC, Box actions) from recorded episodes
  rlrun train resume=~/ray_results/<experiment>/<trial>/checkpoint_000010
  rlrun train resume=~/ray_results/<experiment>/<trial>   # its newest complete checkpoint
  rlrun train -m algo.lr=1e-3,3e-4 seed=0,1,2        # a sweep: 6 trials in turn, then a table
  rlrun train -m hydra/launcher=ray seed=range(0,4)  # ... in parallel on Ray (docs/sweeps.md)
  rlrun compare ~/ray_results/PPO_CartPole-v1        # learning curves + table, docs/compare.md
  rlrun train file=cartpole-ppo.yaml seed=3          # an RLlib tuned-example file (docs/rllib_yaml.md)
  rlrun convert file=cartpole-ppo.yaml --out conf/experiment   # ... as rlrun experiment files"""

TRAIN_HELP = """\
usage: rlrun train [-m [--resume]] [--cfg] [-v | -vv] [group=option ...] [key=value ...]

Composes conf/config.yaml with your overrides (Hydra's syntax), checks every value against the
schema, then trains in this process (plus the Ray actors asked for: remote env runners, learners
or evaluation runners), writing results and checkpoints under <results_dir>/<name>/<trial>/.
Training stops at the first stop criterion met.

options:
  --cfg        print the composed config as YAML and exit (nothing is trained); shows every key
  --resume     with -m: re-running the same sweep skips the trials that finished and resumes
               the interrupted ones from their newest checkpoint (docs/sweeps.md)
  -m, --multirun  a sweep: one trial per combination of comma-separated values, range() or
               choice() (docs/sweeps.md); hydra/launcher=ray runs trials in parallel on Ray,
               hydra/sweeper=optuna searches (interval(), hydra.sweeper.n_trials=N). Ends with a
               table of trials, best first, and <results_dir>/<name>/sweep_summary.csv/.json
  -v, -vv      log at INFO (-v) or DEBUG (-vv) rather than WARN; beside log_level=, the more
               verbose of the two wins
  -h, --help   this text

RLlib files:
  file=PATH    run the experiments of an RLlib tuned-example YAML file (`rllib train file ...`),
               one after the other; overrides given here apply on top (docs/rllib_yaml.md)
  strict=true  with file=: keys that rlrun has no equivalent for are an error, not a warning

groups (group=option):
{groups}

keys (a few of them; `rlrun train --cfg` lists all with their values):
  algo.*        algo.lr=3e-4  algo.lr=[[0,1e-3],[100000,1e-4]]  algo.gamma=0.99  algo.lambda_=0.95
                algo.train_batch_size_per_learner=4000  algo.minibatch_size=256  algo.num_epochs=10
                algo.entropy_coeff=0.01  algo.grad_clip=0.5  algo.model.fcnet_hiddens=[256,256]
  env.*         env.id=CartPole-v1  env.max_episode_steps=500  env.env_config.size=8  env.env_config={{size:8}}
  env_runner.*  env_runner.num_envs_per_env_runner=8  env_runner.observation_filter=MeanStdFilter
                env_runner.num_env_runners=4 (Ray actors)  env_runner.num_cpus_per_env_runner=0.5
  learner.*     learner.num_learners=2 (data-parallel Ray actors)  learner.num_gpus_per_learner=1
  evaluation.*  evaluation.interval=5  evaluation.duration=10  evaluation.num_env_runners=1
                evaluation.parallel_to_training=true  evaluation.env_config={{size:16}}
  fault_tolerance.*  fault_tolerance.restart_failed_env_runners=true
                fault_tolerance.restart_failed_sub_environments=true
  ray.*         ray.address=auto  ray.num_cpus=4  ray.dashboard_host=127.0.0.1
  multi_agent.* multi_agent.policies=[p0,p1]  multi_agent.policy_mapping_fn=pkg.mod:fn
                multi_agent.policies_to_train=[p0]  multi_agent.policies={{p0:{{config:{{lr:0.01}}}}}}
  stop.*        stop.reward=475  stop.reward=null  stop.timesteps=200000  stop.iterations=50  stop.time_s=600
  checkpoint.*  checkpoint.frequency=10  checkpoint.num_to_keep=3  checkpoint.at_end=true
                checkpoint.score_attribute=evaluation/env_runners/episode_return_mean
  top level     seed=0  name=my_run  results_dir=~/ray_results  log_level=INFO  console=plain  resume=PATH
                output=DIR (write the sampled episodes as JSON lines)  output_format=parquet
                callbacks=[pkg.mod:Class] (docs/callbacks.md)  env.task_fn=pkg.mod:fn (a curriculum)

syntax: key=value sets a key; key=[1,2] is a list, key={{a:1}} a mapping; key=null unsets; quote
values with spaces or commas: key='a,b'. Only the free-form env.env_config, evaluation.env_config,
algo.model.custom, ray.runtime_env and multi_agent.policies take new keys.

examples:
{examples}"""

EVALUATE_HELP = """\
usage: rlrun evaluate checkpoint=PATH [episodes=N] [render=true] [video=DIR] [seed=S] [explore=false]
                      [output=DIR] [output_format=json|parquet] [-v | -vv]

Runs the checkpoint's policy (deterministic unless explore=true), prints a table of the episode
returns and writes evaluation.json beside the checkpoint.

  checkpoint=PATH  a checkpoint_NNNNNN/ folder (holds rlrun_checkpoint.json); required
  episodes=N       episodes to run (default {episodes})
  render=BOOL      show the env on screen (default false)
  video=DIR        record episodes as videos into DIR (default: none)
  seed=S           seed of the evaluation envs (default: none, fresh randomness)
  explore=BOOL     sample stochastic actions instead of the deterministic ones (default false)
  output=DIR       also write the episodes to DIR/<name>_evaluation/, as `rlrun train output=DIR`
                   does: data for offline algorithms (BC, MARWIL, CQL; docs/offline.md)
  output_format=F  json (JSON lines, the default) or parquet (needs pyarrow)
  -v, -vv          log at INFO (-v) or DEBUG (-vv) rather than WARN"""

# name -> (default, parser); parsers raise ConfigError naming the key.


def main_help() -> str:
    from rlrun.algorithms.registry import ALGORITHMS
    from rlrun.config.paths import experiments

    width = max(len(c) for c in COMMANDS) + 3
    commands = "\n".join(f"  {name.ljust(width)}{text}" for name, text in COMMANDS.items())
    algos = ", ".join(f"{name} (algo={name.lower()})" for name in ALGORITHMS)
    # RLlib's old-stack names for DQN with other settings (conf/algo/simple_q.yaml, apex.yaml).
    algos += "; DQN presets: SimpleQ (algo=simple_q), APEX (algo=apex env_runner=ray)"
    found = experiments()
    if found:
        w = max(len(n) for n, _ in found) + 3
        tuned = "\n".join(f"  {name.ljust(w)}{desc}".rstrip() for name, desc in found)
    else:
        tuned = "  (none yet)"
    return f"""\
usage: rlrun <command> [args ...]

Reinforcement-learning experiments from the command line: RLlib's new API stack, small and fast.

commands:
{commands}

algorithms: {algos}

config groups (group=option):
{_groups_text()}

tuned examples (rlrun train experiment=NAME):
{tuned}

examples:
{EXAMPLES}"""


def train_help() -> str:
    return TRAIN_HELP.format(groups=_groups_text(), examples=EXAMPLES)


def _groups_text() -> str:
    from rlrun.config.paths import EXPERIMENT_GROUP, config_groups, group_options

    rows: list[tuple[str, str]] = []
    for group in config_groups():
        options = group_options(group)
        if group == "env":
            shown = ", ".join(o for o in options if o != "gym")
            text = f"{shown}, or any Gymnasium id (env=MountainCar-v0), or env=pkg.module:Class"
        else:
            text = ", ".join(options)
        rows.append((group, text))
    rows.append((EXPERIMENT_GROUP, "a tuned example, listed by `rlrun --help`"))
    width = max(len(g) for g, _ in rows) + 3
    return "\n".join(f"  {g.ljust(width)}{t}" for g, t in rows)


def version_text() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("rlrun")
    except PackageNotFoundError:
        # Running from a source checkout that is not installed: the version is in pyproject.toml.
        import tomllib

        pyproject = Path(__file__).resolve().parents[1] / "pyproject.toml"
        try:
            return str(tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["version"])
        except (OSError, KeyError, ValueError):
            return "unknown"
