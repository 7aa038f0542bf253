"""The one error of the study engine a user sees: a single line (a scheduler not reached, Dask missing), exit 2."""


class StudyError(Exception):
    """A problem running a study that is not a bug: `sim.cli` prints it as one line and exits with status 2."""
