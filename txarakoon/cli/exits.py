"""The command line's exit codes, and what an error means for it."""

from __future__ import annotations

from .. import errors
from .output import Output

EXIT_OK = 0
EXIT_NOT_FOUND = 1
EXIT_USAGE = 2
EXIT_NO_MASTER = 3
EXIT_UNREACHABLE = 4
EXIT_OUTCOME_UNKNOWN = 5
EXIT_TIMEOUT = 6
EXIT_ARAKOON_ERROR = 7
EXIT_CONFIG = 8


def exit_code(error: BaseException) -> int:
    """The exit code for a failed call."""
    if isinstance(error, (errors.NotFound, errors.AssertionFailed)):
        return EXIT_NOT_FOUND
    if isinstance(error, errors.MisconfiguredCluster):
        return EXIT_CONFIG
    if isinstance(error, errors.NoMasterError):
        return EXIT_NO_MASTER
    if isinstance(error, errors.OutcomeUnknown):
        return EXIT_OUTCOME_UNKNOWN
    if isinstance(error, errors.RequestTimeout):
        return EXIT_TIMEOUT
    if isinstance(error, (errors.RequestNotProcessed, errors.ConnectionLost)):
        return EXIT_UNREACHABLE
    return EXIT_ARAKOON_ERROR


def describe(error: BaseException, out: Output) -> str:
    """What to tell the user about a failed call. The key a NotFound or an
    AssertionFailed names is shown as keys are printed (``--hex-out``)."""
    if isinstance(error, errors.NotFound):
        return f"not found: {out.text(error.message)}"
    if isinstance(error, errors.AssertionFailed):
        return f"assertion failed: {out.text(error.message)}"
    if isinstance(error, errors.ConnectionFailure):
        # One sentence already: the request, whether it may have been
        # applied, and why (errors.ConnectionFailure.__str__).
        return str(error)
    return f"{type(error).__name__}: {error}"
