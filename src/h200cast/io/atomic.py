"""All-or-nothing writes: build output in a temporary place, move it into place when complete.

An interrupted run, a full disk or an error half way leaves the previous output as it
was and no half-written files behind.

An output folder replaces only what this tool wrote before: a folder that does not exist
yet, an empty folder, or a folder holding a ``manifest.json`` written by h200cast (a
saved run, a report, a backtest). Anything else (a folder of other files, a regular
file, a device such as ``/dev/null``, the current folder) is refused with an
:class:`~h200cast.errors.InputError`, as is a target the system will not let us write
(under a regular file, in ``/proc``, read-only): nothing is deleted or written then.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import shutil
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

from h200cast.errors import InputError

MANIFEST = "manifest.json"
"""The file that marks a folder as an output of this tool (its ``package`` is ``h200cast``)."""

_KINDS = (
    (stat.S_ISREG, "a regular file"),
    (stat.S_ISLNK, "a symbolic link to something that is not a folder"),
    (stat.S_ISCHR, "a device"),
    (stat.S_ISBLK, "a device"),
    (stat.S_ISFIFO, "a named pipe"),
    (stat.S_ISSOCK, "a socket"),
)


def is_output_dir(folder: Path) -> bool:
    """Whether ``folder`` holds a ``manifest.json`` that h200cast wrote."""
    try:
        manifest = json.loads((Path(folder) / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(manifest, dict) and manifest.get("package") == "h200cast"


def check_out_dir(target: Path, *, key: str = "--out") -> None:
    """Fail, naming ``key`` and ``target``, unless :func:`atomic_dir` may replace ``target``.

    Call it before expensive work so that a bad ``--out`` fails at once; :func:`atomic_dir`
    checks again before it writes.
    """
    target = Path(target)
    here = Path.cwd().resolve()
    full = Path(os.path.realpath(target))
    if full == here or full in here.parents:
        raise InputError(
            "expected a new folder or one written by h200cast, not the current folder or one above it",
            key=key,
            value=str(target),
        )
    try:
        st = os.lstat(target)
        if stat.S_ISLNK(st.st_mode) and target.is_dir():
            st = os.stat(
                target
            )  # a link to a folder is judged by the folder; only the link is replaced
        empty = stat.S_ISDIR(st.st_mode) and not any(target.iterdir())
    except FileNotFoundError:
        return
    except OSError as exc:
        raise _os_error(exc, target, key) from None
    if not stat.S_ISDIR(st.st_mode):
        kind = next((what for test, what in _KINDS if test(st.st_mode)), "not a folder")
        raise InputError(
            f"is {kind}; expected a folder to write into (new, empty or written by h200cast)",
            key=key,
            value=str(target),
        )
    if not empty and not is_output_dir(target):
        raise InputError(
            f"is a folder of other files (no {MANIFEST} written by h200cast); expected a new or "
            "empty folder, or an earlier output of h200cast, which is replaced",
            key=key,
            value=str(target),
        )


def _os_error(exc: OSError, target: Path, key: str | None) -> InputError:
    return InputError(
        f"cannot write there ({exc.strerror or type(exc).__name__}); expected a path where "
        "a folder or file can be created",
        key=key,
        value=str(target),
    )


def _reason(exc: OSError) -> str:
    """The system's reason for ``exc`` in a few words ("No space left on device").

    pyarrow raises a plain :class:`OSError` without ``errno``, its text holding
    ``[errno 28] No space left on device``: the number is read from there.
    """
    code = exc.errno
    if code is None:
        m = re.search(r"\[errno (\d+)\]", str(exc), flags=re.IGNORECASE)
        code = int(m.group(1)) if m else None
    if code is not None:
        return os.strerror(code)
    return exc.strerror or " ".join(str(exc).split())[:200] or type(exc).__name__


def write_error(
    exc: OSError | InputError, target: Path, key: str | None, kept: str = "nothing was kept"
) -> InputError:
    """An :class:`OSError` met while writing the output ``target`` (given by option ``key``)
    as one line naming the option, the place and the reason, e.g. a full disk (the
    :class:`InputError` made by an inner :func:`writing`, named again for this place)."""
    reason = getattr(exc, "write_reason", None) or _reason(exc)  # type: ignore[arg-type]
    full = getattr(exc, "errno", None) == errno.ENOSPC or "No space left" in reason
    expected = "free space there" if full else "a place where h200cast can write"
    err = InputError(
        f"cannot write there ({reason}); expected {expected}; {kept}", key=key, value=str(target)
    )
    err.write_reason = reason  # type: ignore[attr-defined]
    return err


@contextlib.contextmanager
def writing(
    target: Path, key: str | None = "--out", kept: str = "nothing was kept"
) -> Iterator[None]:
    """Within the block, an :class:`OSError` (a full disk, a read-only file system) becomes
    an :class:`InputError` naming ``key`` and ``target``: exit 2 and one line ending ``kept``.

    A refused write inside a nested block (a chart saved into the temporary folder of a
    report) is named by the outermost block: the place the user gave, not the temporary one.
    """
    try:
        yield
    except InputError as exc:
        if getattr(exc, "write_reason", None):
            raise write_error(exc, target, key, kept) from None
        raise
    except OSError as exc:
        raise write_error(exc, target, key, kept) from None


@contextlib.contextmanager
def _created_parents(target: Path, key: str | None) -> Iterator[None]:
    """Make ``target``'s missing parent folders; remove those it made if the block fails.

    An :class:`OSError` in making them becomes an :class:`InputError` naming ``key``.
    """
    missing = [p for p in (target.parent, *target.parent.parents) if not p.exists()]
    try:
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise _os_error(exc, target, key) from None
        yield
    except BaseException:
        for p in missing:  # deepest first; a folder someone else filled meanwhile stays
            with contextlib.suppress(OSError):
                p.rmdir()
        raise


@contextlib.contextmanager
def atomic_dir(target: Path, *, key: str = "--out") -> Iterator[Path]:
    """Yield an empty temporary folder beside ``target``; on success it replaces ``target``.

    ``target`` must not exist, or be an empty folder or an earlier output of h200cast
    (see :func:`check_out_dir`); otherwise, or when the system refuses the writes, an
    :class:`InputError` names ``key`` (the option that gave the path) and ``target``.
    The swap is two renames on the same file system; on error the temporary folder is
    removed and ``target`` is untouched.
    """
    target = Path(target)
    check_out_dir(target, key=key)
    with _created_parents(target, key):
        try:
            tmp = Path(tempfile.mkdtemp(prefix=_tmp_prefix(target), dir=target.parent))
        except OSError as exc:
            raise _os_error(exc, target, key) from None
        try:
            os.chmod(tmp, 0o777 & ~_umask())  # mkdtemp makes it private; give what mkdir would
            with writing(target, key):
                yield tmp
            check_out_dir(target, key=key)  # still ours to replace after the work
            _swap(tmp, target, key)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise


TMP_MARK = ".tmp-"
"""Temporary folders are named ``.NAME.tmp-PID-RANDOM`` beside their target."""


def _tmp_prefix(target: Path) -> str:
    return f".{target.name}{TMP_MARK}{os.getpid()}-"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def remove_stale_temporaries(parent: Path) -> list[Path]:
    """Remove temporary folders that :func:`atomic_dir` left in ``parent`` when its process
    was killed (SIGKILL, a power cut): those whose process no longer runs.

    A build still running in another process keeps its folder. Only folders named as
    :func:`atomic_dir` names them are touched.
    """
    removed: list[Path] = []
    try:
        candidates = list(Path(parent).glob(f".*{TMP_MARK}*"))
    except OSError:
        return removed
    for tmp in candidates:
        pid_text = tmp.name.rpartition(TMP_MARK)[2].split("-", 1)[0]
        if not tmp.is_dir() or tmp.is_symlink() or not pid_text.isdigit():
            continue
        if _alive(int(pid_text)):
            continue
        shutil.rmtree(tmp, ignore_errors=True)
        removed.append(tmp)
    return removed


def _swap(tmp: Path, target: Path, key: str) -> None:
    """Move ``tmp`` to ``target``, putting the old ``target`` back if the move fails."""
    old = None
    try:
        if target.exists() or target.is_symlink():
            old = target.parent / f".{target.name}.old-{os.getpid()}"
            os.replace(target, old)
        try:
            os.replace(tmp, target)
        except OSError:
            if old is not None:
                os.replace(old, target)
            raise
    except OSError as exc:
        raise _os_error(exc, target, key) from None
    if old is not None:
        if old.is_dir() and not old.is_symlink():
            shutil.rmtree(old)
        else:
            old.unlink()


def _umask() -> int:
    """The process's file-creation mask (read by setting it and putting it back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def atomic_write_text(target: Path, text: str, *, key: str | None = None) -> None:
    """Write a text file so that readers see the old or the new content, never a part.

    ``target`` must not be a folder or a device; an :class:`OSError` becomes an
    :class:`InputError` naming ``key`` (the option that gave the path, if any) and ``target``.
    """
    atomic_write_texts({Path(target): text}, key=key)


def atomic_write_texts(files: dict[Path, str], *, key: str | None = None) -> None:
    """Write several text files all or none: each is written beside itself first, and only
    when every one is complete are they renamed into place (a full disk half way leaves
    every target as it was). Errors as :func:`atomic_write_text`."""
    for target in files:
        if target.exists() and not target.is_file():
            raise InputError(
                "expected a regular file (or a new one) to write", key=key, value=str(target)
            )
    done: list[tuple[str, Path]] = []
    with contextlib.ExitStack() as parents:
        for target in files:
            parents.enter_context(_created_parents(Path(target), key))
        try:
            for target, text in files.items():
                target = Path(target)
                try:
                    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.tmp-", dir=target.parent)
                except OSError as exc:
                    raise _os_error(exc, target, key) from None
                done.append((tmp, target))
                with writing(target, key), os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
                    fh.write(text)
                os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give what open() would
            for tmp, target in done:
                with writing(target, key):
                    os.replace(tmp, target)
        except BaseException:
            for tmp, _ in done:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(tmp)
            raise
