"""Training and judging a model: labelled folders packed into width-bucketed batches
(:mod:`.packed_data`), one training run with Lightning and its calibration (:mod:`.run`, shared by
the sweep's trials and the final training), evaluation metrics (:mod:`.scoring`) and the terminal
summary of a pipeline run (:mod:`.summary`).

It reads data only as labelled folders (:mod:`pipelines.common.labelled_folder`); the one thing it
takes from :mod:`pipelines.common.data` is the training-time jitter, :func:`pipelines.common.data.augment.build_jitter`.
"""
