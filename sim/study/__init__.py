"""Studies: many runs of variants of one scenario (sweeps, solves, sensitivity), locally or on a Dask cluster.

    units    the unit of work: one (cell, replication), and running it
    engine   running units on local processes or a Dask cluster, saving each as it finishes (resume)
    execute  one function over many arguments in a bounded window: here, local processes (local) or Dask (cluster)
    store    the resume store: one JSON file per finished unit, with a fingerprint of its inputs
    progress the bar on the terminal: units done, rate, time left
    errors   StudyError: one line for the user, exit 2
    paths    setting paths (`services[checkout].concurrency`) for --set and --param
    sweep    `sim sweep` (sweep_grid: the cells; sweep_files: what it writes)
    search   bracketing and bisection for the smallest level meeting the SLOs (solve, quota)
    solve    `sim solve`: the smallest value of any setting meeting the SLOs (solve_cli, solve_report)
"""
