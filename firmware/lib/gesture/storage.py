"""Small file helpers for flash: atomic replace, existence checks, recursive removal."""

import os


def exists(path):
    try:
        os.stat(path)
        return True
    except OSError:
        return False


def is_dir(path):
    try:
        return os.stat(path)[0] & 0x4000 != 0
    except OSError:
        return False


def replace(src, dst):
    """Rename src over dst (atomic on littlefs and POSIX; FAT needs dst removed first)."""
    try:
        os.rename(src, dst)
    except OSError:
        remove(dst)
        os.rename(src, dst)


def write_atomic(path, data):
    """Write data (bytes or str) to path via a temporary file and a rename. On OSError (a full
    flash) the temporary file is removed, path is left as it was, and the error raised."""
    tmp = path + ".tmp"
    try:
        with open(tmp, "wb" if isinstance(data, bytes) else "w") as f:
            f.write(data)
        replace(tmp, path)
    except OSError:
        remove(tmp)
        raise


def remove(path):
    """Remove a file or a directory tree; missing paths are fine."""
    if is_dir(path):
        for name in os.listdir(path):
            remove(path + "/" + name)
        os.rmdir(path)
    elif exists(path):
        os.remove(path)


def makedirs(path):
    """Create a directory and its parents if missing."""
    parts = path.split("/")
    for i in range(1, len(parts) + 1):
        p = "/".join(parts[:i])
        if p and not exists(p):
            os.mkdir(p)


def free_bytes(path):
    """Bytes free on the filesystem holding `path` (blocks available to us x block size)."""
    st = os.statvfs(path)
    return st[1] * st[4]
