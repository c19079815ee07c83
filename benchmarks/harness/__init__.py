"""The benchmark harness: methods, isolated measured runs, derived figures, reports, plot."""
