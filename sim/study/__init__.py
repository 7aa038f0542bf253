"""Studies: many runs of variants of one scenario (sweeps, solves, sensitivity), locally or on a Dask cluster.

    units    the unit of work: one (cell, replication), and running it
    engine   running units on local processes or a Dask cluster, saving each as it finishes (resume)
    paths    setting paths (`services[checkout].concurrency`) for --set and --param
    sweep    `sim sweep` (sweep_grid: the cells; sweep_files: what it writes)
"""
