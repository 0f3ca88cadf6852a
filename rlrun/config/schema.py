"""The configuration schema: one dataclass per config group, each field's default is its one home.

YAML files under conf/ only override these defaults. Hydra checks every composed config against
these dataclasses, so a typo'd key or a wrong type is caught before anything is built.
Importing this module must stay cheap: no torch, no Ray, no gymnasium.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from omegaconf import MISSING


@dataclass
class ModelConfig:
    """The default modules' networks (RLlib's `model_config` names), or a user's module class.

    The encoder comes from the observation space (rlrun/models/catalog.py): an MLP for vectors,
    a CNN for images, one-hot for Discrete/MultiDiscrete, one encoder per leaf for Dict/Tuple.
    """

    fcnet_hiddens: list[int] = field(default_factory=lambda: [64, 64])  # MLP encoder layers
    fcnet_activation: str = "tanh"  # tanh | relu | silu | elu | linear
    head_fcnet_hiddens: list[int] = field(default_factory=list)  # hidden layers of each head
    head_fcnet_activation: str = "relu"  # activation of the head layers
    conv_filters: Any = None  # image encoder [[channels, kernel, stride], ...]; None: by size
    conv_activation: str = "relu"  # activation after each conv layer
    # bfloat16 (torch autocast; weights, heads and losses stay float32) speeds a Nature CNN
    # ~1.7x on CPUs with AVX512-BF16 or AMX, and slows it on CPUs without them.
    conv_dtype: str = "float32"  # float32 | bfloat16: the image encoder's compute type
    use_lstm: bool = False  # an LSTM after the encoder (PPO): a recurrent policy and value
    lstm_cell_size: int = 64  # LSTM units (RLlib: 256; 64 is faster on a CPU)
    max_seq_len: int = 20  # training sequence length: BPTT window of the LSTM
    lstm_use_prev_action: bool = False  # feed the previous action to the LSTM's encoder
    lstm_use_prev_reward: bool = False  # feed the previous reward to the LSTM's encoder
    vf_share_layers: bool = False  # one encoder for policy and value (True) or two (False)
    free_log_std: bool = True  # Box actions: state-independent log-std parameter
    log_std_init: float = 0.0  # initial log-std of the Gaussian policy
    module_class: str | None = None  # "pkg.module:Class" replaces the default module
    load_state_path: str | None = None  # start from a checkpoint's module (RLlib's RLModuleSpec)
    custom: dict[str, Any] = field(default_factory=dict)  # passed to a user's module_class


@dataclass
class AlgoConfig:
    """Settings every algorithm has; each algorithm's schema extends it."""

    name: str = MISSING  # registry name, e.g. PPO
    gamma: float = 0.99  # discount factor, in [0, 1]
    lr: Any = 3e-4  # learning rate: a float or a schedule [[env_steps, value], ...]
    train_batch_size_per_learner: int = 4000  # env steps per training iteration (per learner)
    grad_clip: float | None = None  # clip gradients at this threshold (None: no clipping)
    grad_clip_by: str = "global_norm"  # value | norm | global_norm
    # {type: adamw, weight_decay: 0.01}: a torch.optim class by name with its kwargs; no type:
    # the fused built-in Adam (eps 1e-5 for PPO and DQN, 1e-8 for SAC, unless given).
    optimizer: dict[str, Any] = field(default_factory=dict)  # {}: the built-in Adam
    learner_class: str | None = None  # "pkg.module:Cls", a subclass of the algorithm's Learner
    algorithm_class: str | None = None  # "pkg.module:Cls", a subclass of the algorithm's class
    model: ModelConfig = field(default_factory=ModelConfig)


@dataclass
class EnvConfig:
    """Which environment to make, and how."""

    id: str = "CartPole-v1"  # a Gymnasium id, or "pkg.module:Class" for a user's own env class
    env_config: dict[str, Any] = field(default_factory=dict)  # kwargs passed to the env constructor
    max_episode_steps: int | None = None  # override the registered time limit
    reward_threshold: float | None = None  # "solved" return; None: the Gymnasium registry's value
    task_fn: str | None = None  # curriculum: "pkg.module:fn", fn(result, task) -> the next task
    # DeepMind preprocessing (84x84 gray, frame skip 4, 4 stacked frames), Gymnasium's wrappers.
    atari_preprocessing: bool | None = None  # DeepMind Atari wrappers; None: on for ALE/ ids
    action_mask_key: str | None = None  # Dict obs key of the legal-action mask; None: action_mask


@dataclass
class EnvRunnerConfig:
    """How experience is collected."""

    num_env_runners: int = 0  # 0: sample in the driver; N > 0: N Ray actors sample in parallel
    num_envs_per_env_runner: int = 8  # sub-envs per runner's vector env, one batched forward
    rollout_fragment_length: Any = "auto"  # steps per env per sample() call, or "auto"
    vectorize_mode: str = "sync"  # sync | async (Gymnasium vector env mode)
    observation_filter: str = "NoFilter"  # NoFilter | MeanStdFilter
    metrics_num_episodes_for_smoothing: int = 100  # episodes in the return/length moving window
    explore: bool = True  # sample stochastic actions while training
    num_cpus_per_env_runner: float = 1.0  # Ray resources of each remote runner
    num_gpus_per_env_runner: float = 0.0  # fractional GPUs of each remote runner
    sample_timeout_s: float | None = 600.0  # a remote sample() slower than this counts as failed


@dataclass
class ConnectorsConfig:
    """User connector pieces (docs/connectors.md): each a name or "pkg.module:Class", bare or
    as {name: {kwargs}}, e.g. [{frame_stack: {num_frames: 4}}, mean_std_filter]."""

    env_to_module: list[Any] = field(default_factory=list)  # observations -> module inputs
    module_to_env: list[Any] = field(default_factory=list)  # module actions -> env actions
    learner: list[Any] = field(default_factory=list)  # sampled data -> the loss's batch


@dataclass
class LearnerConfig:
    """Where and how gradient updates run."""

    num_learners: int = 0  # 0: learn in the driver; N > 0: N Ray actors, data-parallel if N > 1
    num_cpus_per_learner: float = 1.0  # Ray resources of each remote learner
    num_gpus_per_learner: float = 0.0  # > 0 puts the learner on a GPU (fractional if N <= 1)
    torch_num_threads: int = 1  # intra-op threads; small nets run fastest on one


@dataclass
class EvaluationConfig:
    """Evaluation during training, reported under evaluation/..."""

    interval: int = 0  # evaluate every N training iterations; 0: never
    duration: Any = 10  # per evaluation, in duration_unit; auto: as long as the training step
    duration_unit: str = "episodes"  # episodes | timesteps
    num_env_runners: int = 0  # 0: evaluate in the driver; N > 0: N Ray actors
    num_envs_per_env_runner: int | None = None  # sub-envs per eval runner; None: as in env_runner
    num_cpus_per_env_runner: float | None = None  # Ray CPUs per eval runner; None: as in env_runner
    explore: bool = False  # sample stochastic actions (False: the deterministic policy)
    parallel_to_training: bool = False  # evaluate while the next iteration trains (remote only)
    env_config: dict[str, Any] = field(default_factory=dict)  # merged over env.env_config for eval
    policy_mapping_fn: str | None = None  # multi-agent: agents -> modules in eval; null: training's
    config: dict[str, Any] = field(default_factory=dict)  # {env: {..}, env_runner: {..}} for eval
    custom_evaluation_function: str | None = None  # "pkg.module:fn", fn(algorithm, evaluator)


@dataclass
class FaultToleranceConfig:
    """What happens when an env runner or one of its environments fails."""

    restart_failed_env_runners: bool = True  # replace a crashed remote runner and go on
    max_num_env_runner_restarts: int = 1000  # restarts allowed per runner before the run fails
    ignore_env_runner_failures: bool = False  # drop a crashed runner, go on with the rest
    restart_failed_sub_environments: bool = False  # recreate only the sub-env whose step raised
    # A runner failing this many times in a row without completing a sample, or every runner
    # failing in one round before any completed one, is a crash loop: the run ends (exit 1).
    max_consecutive_env_runner_failures: int = 3  # failures in a row that make a crash loop
    delay_between_env_runner_restarts_s: float = 1.0  # doubles per failure in a row; RLlib: 60


@dataclass
class RayConfig:
    """Which Ray cluster remote runners and learners use (only read when something is remote)."""

    address: str | None = None  # auto | HOST:PORT joins a running cluster; None: start one here
    connect_timeout_s: float = 15.0  # give up on a HOST:PORT address that nobody answers at
    num_cpus: int | None = None  # CPUs of a Ray started here; None: all of this machine's
    num_gpus: int | None = None  # GPUs of a Ray started here; None: all of this machine's
    object_store_memory: int | None = None  # bytes of a Ray started here; None: Ray's default
    include_dashboard: bool | None = None  # None: Ray decides (the dashboard needs ray[default])
    dashboard_host: str = "127.0.0.1"  # the dashboard binds here; 0.0.0.0 exposes it to the network
    runtime_env: dict[str, Any] = field(default_factory=dict)  # Ray runtime_env, e.g. working_dir


@dataclass
class StopConfig:
    """Stop criteria; training ends at whichever is met first."""

    reward: Any = "auto"  # stop at this `metric` value; "auto": env's reward_threshold; null: off
    metric: str = "env_runners/episode_return_mean"  # result key that `reward` is compared with
    timesteps: int | None = None  # env steps sampled (num_env_steps_sampled_lifetime)
    iterations: int | None = None  # training iterations
    time_s: float | None = None  # wall-clock seconds of training


@dataclass
class CheckpointConfig:
    """When checkpoints are written and how many are kept."""

    frequency: int = 0  # every N iterations; 0: only at the end
    at_end: bool = True  # write one when training stops
    num_to_keep: int | None = None  # keep only N (best by score_attribute, else newest); None: all
    score_attribute: str | None = None  # result key that ranks checkpoints for num_to_keep
    score_order: str = "max"  # max | min: which end of score_attribute is best
    include_replay_buffer: bool = False  # replay-based algorithms: save the buffer too (npz)


@dataclass
class MultiAgentConfig:
    """Several agents and modules in one run (docs/multi_agent.md; RLlib's `multi_agent` names).
    Read only when the env is a multi-agent one (PettingZoo, or RLlib's MultiAgentEnv protocol)."""

    # As a mapping: {id: {model: {...}, module_class: ..., config: {lr: ...}, checkpoint: PATH}}.
    policies: Any = None  # module ids (a list or a mapping); null: one shared default_policy
    policy_mapping_fn: str | None = None  # "pkg.module:fn", fn(agent_id, episode, **kw) -> id
    policies_to_train: list[str] | None = None  # the modules that learn; null: all of them
    count_steps_by: str = "env_steps"  # env_steps | agent_steps: what train_batch_size counts
    algorithm_config_overrides_per_module: Any = None  # {id: {algo key: value}}; null: none
    multi_rl_module_class: str | None = None  # "pkg.module:Class" wiring modules (shared layers)


@dataclass
class OfflineDataConfig:
    """Recorded episodes that offline algorithms (BC, MARWIL, CQL) learn from (docs/offline.md;
    RLlib's `offline_data` names). The batch size is `algo.train_batch_size_per_learner`."""

    # A folder or files of rlrun's `output=` episodes (.jsonl, .parquet), a Minari dataset
    # folder, or minari:<dataset id> (looked up under MINARI_DATASETS_PATH); a list for several.
    input_: Any = None  # the recorded data; null: none (offline algorithms need it)
    dataset_num_iters_per_learner: int = 1  # train batches (updates) per learner per iteration
    shuffle: bool = True  # draw episodes in a fresh random order each pass (False: file order)


@dataclass
class RootConfig:
    """The whole tree. `rlrun train` composes conf/config.yaml over this."""

    algo: Any = MISSING  # filled by the algo/ group (its schema extends AlgoConfig)
    env: EnvConfig = field(default_factory=EnvConfig)
    env_runner: EnvRunnerConfig = field(default_factory=EnvRunnerConfig)
    learner: LearnerConfig = field(default_factory=LearnerConfig)
    connectors: ConnectorsConfig = field(default_factory=ConnectorsConfig)
    stop: StopConfig = field(default_factory=StopConfig)
    checkpoint: CheckpointConfig = field(default_factory=CheckpointConfig)
    evaluation: EvaluationConfig = field(default_factory=EvaluationConfig)
    fault_tolerance: FaultToleranceConfig = field(default_factory=FaultToleranceConfig)
    ray: RayConfig = field(default_factory=RayConfig)
    multi_agent: MultiAgentConfig = field(default_factory=MultiAgentConfig)
    offline_data: OfflineDataConfig = field(default_factory=OfflineDataConfig)
    seed: int | None = 0  # seeds torch, numpy and the envs; null: a fresh random seed
    name: str | None = None  # experiment folder name; None: "<algo>_<env id>"
    results_dir: str = "~/ray_results"  # root of all experiment folders
    log_level: str = "WARN"  # DEBUG | INFO | WARN | ERROR; -v is INFO, -vv DEBUG (docs/logging.md)
    output: str | None = None  # write the sampled training episodes to DIR/trial_name/; null: none
    output_format: str = "json"  # json (JSON lines) | parquet (needs pip install 'rlrun[output]')
    output_max_file_size_mb: float = 64.0  # start a new episodes file once one reaches this size
    resume: str | None = None  # a checkpoint folder to continue training from
    console: str = "auto"  # auto | rich | plain | off: the live progress display
    callbacks: list[str] = field(default_factory=list)  # hook classes "pkg.module:Class"
