"""infraplan benchmarks: external benchmark importers and runners, baselines and harness."""
