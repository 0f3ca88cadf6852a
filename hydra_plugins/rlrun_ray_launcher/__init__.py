"""rlrun's Hydra launcher `hydra/launcher=ray`: sweep trials in parallel on Ray (see
rlrun/sweep/ray_launch.py). Hydra only loads launchers from the `hydra_plugins` namespace."""
