"""Every error type of the library, in one place, and what each means to the command line.

A :class:`UsageError` (or a subclass) is something the user can fix: an option out of range, a missing or
malformed file, an output that cannot be written; ``python -m slowfast_lite`` prints it as one line
``command: message`` and exits with 2. :class:`ZooError` is an I/O failure while running (exit 1). Each message
names the option, file, line or key at fault. Only the standard library: every module can import it.
"""


class UsageError(ValueError):
    """Something the user typed or pointed at cannot be used; the message names the option, file or line."""


class VideoDecodeError(UsageError):
    """A video file could not be read as asked; the message names the file and the cause."""


class DatasetError(UsageError):
    """A data set description that cannot be used; the message names the file and the line or folder."""


class AVAFormatError(UsageError):
    """A malformed AVA file; the message starts with ``path:line:``."""


class CheckpointError(UsageError):
    """A checkpoint that cannot be read, or does not fit the model; the message names the file."""


class ResumeError(UsageError):
    """A checkpoint that this run cannot continue from; the message says which setting differs."""


class DemoError(UsageError):
    """Bad input to the demo (labels file, options); the message names the file and the mismatch."""


class UnknownWeights(UsageError):
    """A model or weights name the zoo does not have; the message lists what it has."""


class FolderInUse(UsageError):
    """Another process holds the lock of a folder (``utils.folder_lock``); the message names it and its lock file."""


class ZooError(OSError):
    """A download that failed or was cut short, or a file that does not check or load; nothing is left in the
    cache. An I/O failure, not the user's mistake: the command line prints it as one line and exits with 1."""
