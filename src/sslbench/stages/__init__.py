"""One module per pipeline stage: the thin layer between Snakemake rules and the science.

Each stage reads its inputs, calls into the package, writes its outputs atomically and logs a
run to MLflow. ``sslbench.cli`` dispatches to them.
"""
