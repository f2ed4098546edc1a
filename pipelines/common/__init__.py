"""What the pipeline's stages share: parameters, labelled folders, number texts, digit pools, the
composer of numbers, the writer of labelled splits, augmentation, packed data, training and scoring.

Stages (the modules one level up, one per ``dvc.yaml`` stage) import from here; a stage never
imports another stage, and nothing here imports a stage.
"""
