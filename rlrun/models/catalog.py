"""The model catalog: which encoder an observation space gets, checked before anything is built.

  Box vector, MultiBinary   flattened floats -> MLP(fcnet_hiddens)
  Box image (uint8 or not)  CNN(conv_filters or a default by size) -> one dense layer
  Discrete, MultiDiscrete   one-hot (one per component, concatenated) -> MLP(fcnet_hiddens)
  Dict, Tuple               one encoder per leaf without its MLP (images keep their CNN),
                            concatenated -> MLP(fcnet_hiddens); the action-mask key is skipped

No torch at module level: `check_encodable` and `action_mask_key` run at config-check time.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from rlrun.errors import ConfigError
from rlrun.models.spaces import check_space

if TYPE_CHECKING:
    from rlrun.models.encoders import Encoder

DEFAULT_MASK_KEY = "action_mask"


def build_encoder(
    observation_space: Any, model_config: dict[str, Any], features_only: bool = False
) -> Encoder:
    """The encoder for `observation_space`: an nn.Module with `out_dim`, mapping an obs tree
    with leaves [B, ...] to features [B, out_dim]. `features_only`: without the final
    fcnet MLP (SAC's Box critics put it after concatenating the action)."""
    from rlrun.models.encoders import make_encoder

    mask_key = model_config.get("action_mask_key")
    return make_encoder(observation_space, model_config, mask_key, features_only)


def check_encodable(
    observation_space: Any, model_config: dict[str, Any], env_id: str | None = None
) -> None:
    """Raise ConfigError ("env.id", naming the space and what is supported; or
    "algo.model.conv_filters" when the filters do not fit an image) unless the default
    encoders can encode `observation_space`."""
    check_space(observation_space, model_config, env_id)


def action_mask_key(
    observation_space: Any, configured_key: str | None, action_space: Any = None
) -> str | None:
    """The Dict key holding the legal-action mask, or None for no masking.

    With no configured key: "action_mask" if the observation is a Dict holding it. A
    configured key must be in the Dict. Given `action_space`, the mask must have one entry per
    action logit (Discrete n, or MultiDiscrete sum(nvec)).
    """
    from gymnasium import spaces

    is_dict = isinstance(observation_space, spaces.Dict)
    key = "env.action_mask_key"
    if configured_key is None:
        if not (is_dict and DEFAULT_MASK_KEY in observation_space.spaces):
            return None
        if action_space is not None and _num_logits(action_space) is None:
            return None  # a key by that name, but no discrete actions to mask
        found = DEFAULT_MASK_KEY
    elif not is_dict:
        raise ConfigError(
            key, configured_key, f"the observation space is {observation_space}, not a Dict"
        )
    elif configured_key not in observation_space.spaces:
        keys = ", ".join(map(str, observation_space.spaces))
        raise ConfigError(
            key, configured_key, f"is not a key of the observation; its keys are {keys}"
        )
    else:
        found = configured_key
    if action_space is not None:
        _check_mask_fits(found, observation_space.spaces[found], action_space)
    return found


def _num_logits(action_space: Any) -> int | None:
    from gymnasium import spaces

    if isinstance(action_space, spaces.Discrete):
        return int(action_space.n)
    if isinstance(action_space, spaces.MultiDiscrete):
        return int(action_space.nvec.sum())
    return None


def _check_mask_fits(key: str, mask_space: Any, action_space: Any) -> None:
    from gymnasium import spaces

    n = _num_logits(action_space)
    if n is None:
        raise ConfigError(
            "env.action_mask_key",
            key,
            f"action masks need Discrete or MultiDiscrete actions; this env's are {action_space}",
        )
    vector = isinstance(mask_space, spaces.MultiBinary | spaces.Box) and len(mask_space.shape) == 1
    if not (vector and int(mask_space.shape[0]) == n):
        raise ConfigError(
            "env.action_mask_key",
            key,
            f"the mask's space is {mask_space}; it must be a MultiBinary({n}) or a Box of shape "
            f"({n},): one entry per action of {action_space}",
        )


def complete_model_config(
    model_config: dict[str, Any], algo_config_cls: Any = None, extras: tuple[str, ...] = ()
) -> dict[str, Any]:
    """`model_config` with every ModelConfig key (and the algorithm's `extras`, e.g. DQN's
    dueling) that it lacks filled in from the schema, so modules read cfg["key"] and the
    defaults keep one home. The algorithm always passes a full dict; tests and hand-built
    specs may pass a few keys. `algo_config_cls`' own model defaults (e.g. DQN's relu) win
    over ModelConfig's."""
    from rlrun.config.schema import ModelConfig

    algo = algo_config_cls() if algo_config_cls is not None else None
    out = dataclasses.asdict(algo.model if algo is not None else ModelConfig())
    out.update({k: getattr(algo, k) for k in extras})
    out.update(model_config)
    return out
