"""When to refine during representation learning.

The papers refine at epochs 1, 2, 5, 10, 20, 50, 100, 500 and then every 500
epochs; runs shorter than an epoch-scale schedule can give it in steps instead.
"""

from __future__ import annotations


def refinement_steps(total_steps: int, steps_per_epoch: int, epochs=(1, 2, 5, 10, 20, 50, 100, 500),
                     every_epochs: int = 500, steps=None) -> list[int]:
  """Steps (strictly inside (0, total_steps)) after which the training set is refined.

  `steps`, when given, is used as is (a list of step numbers); otherwise the
  epoch schedule is converted with `steps_per_epoch`.
  """
  if steps:
    points = {int(s) for s in steps}
  else:
    if steps_per_epoch < 1:
      raise ValueError(f"steps_per_epoch must be >= 1, got {steps_per_epoch}.")
    points = {int(e) * steps_per_epoch for e in epochs}
    if every_epochs:
      last = max(epochs) if epochs else 0
      e = last + every_epochs
      while e * steps_per_epoch < total_steps:
        points.add(e * steps_per_epoch)
        e += every_epochs
  return sorted(p for p in points if 0 < p < total_steps)


def training_stops(refine_cfg, total_steps: int, steps_per_epoch: int, checkpoint_every: int):
  """(refine_points, stops): the steps after which to refine, and every step at which the
  training loop pauses (refinement, checkpoint, end).

  With `refine_cfg.before_training`, step 0 is a refine point too: the first round
  uses the initialised representation, before its first update (STOC Algorithm 1,
  lines 8-11), so the learner never trains on the anomalies that round removes.
  """
  refine_points = []
  if refine_cfg.enabled and refine_cfg.update_representation:
    refine_points = refinement_steps(total_steps, steps_per_epoch, tuple(refine_cfg.schedule_epochs),
                                     refine_cfg.every_epochs, tuple(refine_cfg.schedule_steps) or None)
    if refine_cfg.before_training:
      refine_points = [0] + refine_points
  every = int(checkpoint_every) or max(total_steps, 1)
  stops = sorted(set(refine_points) | set(range(every, total_steps, every)) | {total_steps})
  return refine_points, stops
