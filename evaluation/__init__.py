"""Measures that grade explanations: against the synthetic world's ground truth
(:mod:`evaluation.ground_truth`: localisation, the model-randomisation check)."""
