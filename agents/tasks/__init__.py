"""Benchmark tasks: BBH data loading, answer scoring, seeded generators and mixed request streams."""
