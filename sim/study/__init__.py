"""Studies: many runs of variants of one scenario (sweeps, solves, sensitivity), locally or on a Dask cluster.

    units    the unit of work: one (cell, replication), and running it
    engine   running units on local processes or a Dask cluster, saving each as it finishes (resume)
    search   bracketing and bisection for the smallest level meeting the SLOs (solve, quota)
    solve    `sim solve`: the smallest value of any setting meeting the SLOs (solve_cli, solve_report)
"""
