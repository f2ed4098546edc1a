"""Prediction: upload checks and decoding, the predictor, the inference pool and its processes, the answers' shapes."""
