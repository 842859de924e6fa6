"""Deep features: DenseNet-121 extractor, weights provenance, class activation maps."""
