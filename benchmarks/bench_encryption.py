"""Cost of encryption at rest, as ratios of the same work on an encrypted and a plain copy of the
demo township (SQLCipher against plain SQLite, same driver, same file contents):

- the history check of `main.py check` (reads every record and every history entry);
- writing 2,000 households through the store's write path (validation, history, outbox);
- a backup (online backup API, photos excluded);
- signing in (argon2id at the product's cost) against opening the plain file.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.harness import compare
from wq_desktop import accounts, backup, checks, encrypt_store, keyfile, sqldriver
from wq_desktop.demo import create_demo_store
from wq_desktop.store import Store

PASSWORD = "Bench2026pass"
HOUSEHOLDS = 2000


def _copy(src: Path, dst: Path) -> Path:
    a, b = sqldriver.connect(src), sqldriver.connect(dst)
    a.backup(b)
    b.execute("PRAGMA journal_mode=DELETE")
    a.close()
    b.close()
    return dst


def _write_households(store: Store, village: str, run: int) -> None:
    from wq_desktop.rules import identity

    with store.transaction():
        for i in range(HOUSEHOLDS):  # distinct valid IDs: the run is the birth month
            body = f"6523991980{run:02d}{i // 1000 + 1:02d}{i % 1000:03d}"
            store.create("operator", {"village": village, "name": f"户{run}-{i}", "kind": "农户",
                                      "id_code": body + identity.id_check_char(body)})


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        plain = folder / "plain.sqlite"
        create_demo_store(plain, "基准").close()
        enc = _copy(plain, folder / "enc.sqlite")
        encrypt_store.encrypt(enc, "基准", PASSWORD).store.close()
        with Store.open(plain, "基准") as p_store, accounts.sign_in(enc, "基准", PASSWORD) as e_store:
            compare("history check, encrypted vs plain demo",
                    lambda: checks.check_history(e_store), lambda: checks.check_history(p_store))
            village = p_store.find("village")[0]["uuid"]
            runs = iter(range(1, 13))
            compare(f"write {HOUSEHOLDS} households, encrypted vs plain",
                    lambda: _write_households(e_store, village, next(runs)),
                    lambda: _write_households(p_store, village, next(runs)))
            key = e_store.key
        out = folder / "backups"
        out.mkdir()
        compare("backup, encrypted vs plain", lambda: backup._copy(enc, out / "e.sqlite", key),
                lambda: backup._copy(plain, out / "p.sqlite"))
        keyfile.forget(enc)

        def sign_in() -> None:
            accounts.sign_in(enc, "基准", PASSWORD).close()
            keyfile.forget(enc)

        compare("sign-in (argon2id, product cost) vs opening the plain file", sign_in,
                lambda: Store.open(plain, "基准").close())


if __name__ == "__main__":
    main()
