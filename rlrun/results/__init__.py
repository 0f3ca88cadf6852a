"""Trial directories, result loggers and the live console.

Importing this package is cheap: tensorboardX, rich and omegaconf load only when a TensorBoard
logger, a rich console or `write_params` is first used. (checkpoint.py is imported on its own:
`from rlrun.results.checkpoint import ...`.)
"""

from rlrun.results.console import (
    CONSOLE_MODES,
    NullConsole,
    PlainConsole,
    ProgressConsole,
    RichConsole,
    make_console,
)
from rlrun.results.flatten import as_number, flatten, get_metric, get_number, to_jsonable
from rlrun.results.loggers import (
    DEFAULT_LOGGERS,
    PROGRESS_FILE,
    RESULT_FILE,
    CsvLogger,
    JsonLogger,
    Logger,
    ResultLoggers,
    TBXLogger,
    read_results,
)
from rlrun.results.progress import (
    ProgressTracker,
    Snapshot,
    evaluate_command,
    format_line,
    stop_progress,
    summary_lines,
)
from rlrun.results.trial import (
    ERROR_FILE,
    PARAMS_FILE,
    create_trial_dir,
    expand_path,
    experiment_name,
    safe_name,
    trial_id,
    trial_name,
    write_error,
    write_params,
)

__all__ = [
    "CONSOLE_MODES",
    "DEFAULT_LOGGERS",
    "ERROR_FILE",
    "PARAMS_FILE",
    "PROGRESS_FILE",
    "RESULT_FILE",
    "CsvLogger",
    "JsonLogger",
    "Logger",
    "NullConsole",
    "PlainConsole",
    "ProgressConsole",
    "ProgressTracker",
    "ResultLoggers",
    "RichConsole",
    "Snapshot",
    "TBXLogger",
    "as_number",
    "create_trial_dir",
    "evaluate_command",
    "expand_path",
    "experiment_name",
    "flatten",
    "format_line",
    "get_metric",
    "get_number",
    "make_console",
    "read_results",
    "safe_name",
    "stop_progress",
    "summary_lines",
    "to_jsonable",
    "trial_id",
    "trial_name",
    "write_error",
    "write_params",
]
