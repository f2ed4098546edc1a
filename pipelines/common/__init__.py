"""What the pipeline's stages share, in three packages by job, beside the two contracts all of them use.

- :mod:`pipelines.common.data`: making data (the pen writer and real pen trajectories, the composer
  of real digits, paper, marks beside numbers, number texts, augmentation, the one writer of
  labelled splits).
- :mod:`pipelines.common.training`: training and judging a model (packed data, one training run,
  scoring, the run summary).
- :mod:`pipelines.common.corrections`: reading the service's database (accepted corrections, its
  URLs, the images it kept).
- :mod:`pipelines.common.params` and :mod:`pipelines.common.labelled_folder` stay here, at the top:
  every stage of every job reads its section of ``params.yaml``, and the labelled folder is what data
  making writes, training packs, the corrections export writes and ``pipelines.evaluate`` reads; in any
  one of the packages they would make the other two depend on it.

Stages (the modules one level up, one per ``dvc.yaml`` stage) import from here; a stage never
imports another stage, and nothing here imports a stage. The packages import ``models`` and the two
contracts; only training imports data (the training-time jitter is :mod:`pipelines.common.data.augment`'s).
"""
