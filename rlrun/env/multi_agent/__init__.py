"""Multi-agent environments: adapters to RLlib's MultiAgentEnv protocol and small example envs."""
