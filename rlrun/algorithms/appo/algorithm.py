"""APPO: IMPALA's training step (sample, update, sync; asynchronous with Ray runners) with
APPO's learner."""

from __future__ import annotations

from rlrun.algorithms.appo.learner import APPOLearner
from rlrun.algorithms.impala.algorithm import IMPALA


class APPO(IMPALA):
    learner_class = APPOLearner
