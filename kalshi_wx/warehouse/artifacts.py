"""Model artifacts on disk: a trained model pickled once, loaded only with the hash recorded at training.

Loading a pickle runs arbitrary code, so only load files this platform wrote; ``load_model`` refuses
a file whose SHA-256 differs from the one recorded in ``models.artifacts``.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
from pathlib import Path

ARTIFACT_NAME = "cross_bracket_model.pkl"


def save_model(obj: object, directory: Path | str) -> tuple[Path, str]:
    """Pickle ``obj`` to ``directory/cross_bracket_model.pkl`` atomically; (path, SHA-256 of the file bytes)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    payload = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    path = directory / ARTIFACT_NAME
    # Write then rename, so a reader never sees half a file and a crash leaves the previous model.
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{ARTIFACT_NAME}.")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path, hashlib.sha256(payload).hexdigest()


def load_model(path: Path | str, sha256: str) -> object:
    """Unpickle a saved model after checking its bytes against the SHA-256 recorded when it was saved."""
    payload = Path(path).read_bytes()
    found = hashlib.sha256(payload).hexdigest()
    if found != sha256:
        raise ValueError(f"{path}: SHA-256 {found} differs from the recorded {sha256}; refusing to unpickle it")
    return pickle.loads(payload)  # trusted: our own artifact, hash-checked above
