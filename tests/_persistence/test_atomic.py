"""Atomic writes: a failed or killed write leaves the file already there intact."""

import os
import stat
import subprocess
import sys
import textwrap

import pytest

from sklearn_cnn import CNNClassifier, save
from sklearn_cnn._persistence.atomic import atomic_write, replacing


def test_atomic_write_writes_the_file_and_nothing_else(tmp_path):
    path = tmp_path / "out.bin"
    with atomic_write(path) as file:
        file.write(b"new")
    assert path.read_bytes() == b"new"
    assert os.listdir(tmp_path) == ["out.bin"]


def test_a_new_file_gets_the_umask_permissions_and_a_replaced_one_keeps_its_own(tmp_path):
    old = os.umask(0o027)
    try:
        with atomic_write(tmp_path / "new.txt", "w") as file:
            file.write("x")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "new.txt").stat().st_mode) == 0o640  # not mkstemp's 0o600
    kept = tmp_path / "kept.txt"
    kept.write_text("old")
    kept.chmod(0o604)
    with atomic_write(kept, "w") as file:
        file.write("new")
    assert kept.read_text() == "new" and stat.S_IMODE(kept.stat().st_mode) == 0o604


def test_an_error_in_the_block_leaves_the_old_file_and_no_temporary_file(tmp_path):
    path = tmp_path / "model.safetensors"
    path.write_bytes(b"old")
    with pytest.raises(RuntimeError, match="half-way"), atomic_write(path) as file:
        file.write(b"new, but only")
        raise RuntimeError("half-way")
    assert path.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["model.safetensors"]


def test_an_os_error_names_the_path_and_keeps_its_kind(tmp_path):
    missing = tmp_path / "no-folder" / "model.safetensors"
    with pytest.raises(FileNotFoundError, match=r"no-folder.*does not exist.*nothing was"):
        save(CNNClassifier(), missing)
    path = tmp_path / "model.safetensors"
    path.write_bytes(b"old")
    with pytest.raises(OSError, match=r"Could not write .*model\.safetensors.*disk full"
                                      r".*already there is unchanged"), replacing(path):
        raise OSError(28, "disk full")
    assert path.read_bytes() == b"old" and os.listdir(tmp_path) == ["model.safetensors"]


def test_only_whole_file_modes(tmp_path):
    with pytest.raises(ValueError, match="'wb' or 'w', not 'ab'"), \
            atomic_write(tmp_path / "x", "ab"):
        pass


def _run(script: str, *args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(script), *map(str, args)],
                          capture_output=True, text=True, timeout=300, check=False)


#: Saves over a model, stalled at the k-th C function the save calls (a write,
#: an fsync, the rename...) in a forked child, killed there with SIGKILL; the
#: file must then load, as the old model or the new one, and never be lost.
KILL_DURING_SAVE = """
    import os, signal, sys, time
    from sklearn_cnn import CNNClassifier, load, save

    path = sys.argv[1]
    save(CNNClassifier(lr=0.1), path)

    def save_stalled_at(point):
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: save, stalling forever at C call number `point`
            calls = 0
            def profile(frame, event, arg):
                nonlocal calls
                if event == "c_call":
                    calls += 1
                    if calls == point:
                        sys.setprofile(None)
                        os.write(write, b"stalled")
                        time.sleep(600)
            sys.setprofile(profile)
            save(CNNClassifier(lr=0.2, module_kwargs={"note": "x" * 100_000}), path)
            sys.setprofile(None)
            os.write(write, f"saved after {calls} calls".encode())
            os._exit(0)
        os.close(write)
        said = os.read(read, 100).decode()
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        os.close(read)
        return said

    total = int(save_stalled_at(10**9).split()[2])
    save(CNNClassifier(lr=0.1), path)
    for point in range(1, total + 1):
        said = save_stalled_at(point)
        try:
            lr = load(path).lr
        except Exception as exc:
            lr = f"lost ({type(exc).__name__})"
        print(point, said, lr, flush=True)
        if lr == 0.2:
            save(CNNClassifier(lr=0.1), path)
"""


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(os, "fork"), reason="kills a forked process (POSIX)")
def test_a_save_killed_at_any_point_never_loses_the_model_already_there(tmp_path):
    result = _run(KILL_DURING_SAVE, tmp_path / "model.safetensors")
    assert result.returncode == 0, result.stderr
    rows = [line.split(" ", 2) for line in result.stdout.splitlines()]
    stalled = [row for row in rows if row[1] == "stalled"]
    assert len(stalled) > 20  # a save calls that many C functions: the kills cover it
    assert all(row[2] in ("0.1", "0.2") for row in rows), result.stdout
    assert {row[2] for row in stalled} == {"0.1", "0.2"}  # killed before and after the rename


FILE_SIZE_LIMIT = """
    import os, resource, sys
    from sklearn_cnn import CNNClassifier, load, save

    path = sys.argv[1]
    save(CNNClassifier(lr=0.1), path)
    limit = os.path.getsize(path) + 1000
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.RLIM_INFINITY))
    try:
        save(CNNClassifier(lr=0.2, module_kwargs={"note": "x" * 100_000}), path)
    except OSError as exc:
        print(f"{type(exc).__name__}: {exc}")
    print(load(path).lr, sorted(os.listdir(os.path.dirname(path))))
"""


@pytest.mark.skipif(sys.platform == "win32", reason="RLIMIT_FSIZE is POSIX")
def test_a_save_over_the_file_size_limit_names_the_file_and_keeps_the_old_one(tmp_path):
    path = tmp_path / "model.safetensors"
    result = _run(FILE_SIZE_LIMIT, path)
    assert result.returncode == 0, result.stderr
    error, kept = result.stdout.splitlines()
    assert error.startswith("OSError: [Errno 27] Could not write") and repr(str(path)) in error
    assert "File too large" in error and "already there is unchanged" in error
    assert kept == "0.1 ['model.safetensors']"
