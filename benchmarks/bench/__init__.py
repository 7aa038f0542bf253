"""The benchmark harness behind ``benchmarks/run.py``, one job per module:

    workloads  the workloads' constants (case (a), case (b), the pools, the sweep, the kernel group)
    cases      the case table: every case's name, group, model, kernel and child spec
    children   what a child subprocess runs (dispatch on the spec's kind), and spawning one from the parent
    ours       our model in the child: one run, a profile, a sweep through the study engine
    commands   our command line in the child: `sim run` end to end, the planner's `sim solve` (CPU-minutes)
    floor      the plainest SimPy model of case (a)
    simfaas    SimFaaS on case (b)
    agreement  batch means and the Welch check of (b) against SimFaaS
    measure    peak memory, load average, children's CPU time
    machine    the machine and the versions, for the report's header
    figures    number formats, ratios round by round, the kernel pairs and what they cost
    report     the tables and the report (RESULTS.md)
    targets    the PASS / FAIL lines; kernel_targets those of the kernel group
    main       the command line: choosing cases, the rounds, writing the report
"""
