"""Digitify's model package: charset, preprocessing, the CRNN, CTC decoding and the Recognizer."""
