"""The one SQLite store: tasks, techniques, profiles (cache), plans, jobs, leases and events.

Safe for several processes (kernels, trial children) at once: WAL journal, a busy timeout, and every write in a
``BEGIN IMMEDIATE`` transaction (retried when SQLite still reports the database as locked). The schema is versioned in
``schema_version``; ``MIGRATIONS`` lists the SQL that takes a database from version n-1 to n.

``events`` has an AUTOINCREMENT id, so ids only grow: the bridge answers "events since id N" from it and that is how
the panel sees a task registered in any kernel without a reload.
"""
from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Optional

from .paths import store_path
from .schema import wire_schema

SCHEMA_VERSION = 5

MIGRATIONS: dict[int, list[str]] = {
    1: [
        """CREATE TABLE tasks (
            name TEXT PRIMARY KEY,
            spec TEXT NOT NULL,
            payload BLOB NOT NULL,
            signature TEXT NOT NULL,
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL)""",
        """CREATE TABLE techniques (
            name TEXT PRIMARY KEY,
            payload BLOB NOT NULL,
            description TEXT NOT NULL DEFAULT '',
            created_at REAL NOT NULL)""",
        """CREATE TABLE profiles (
            key TEXT PRIMARY KEY,
            signature TEXT NOT NULL,
            batch_size INTEGER NOT NULL,
            technique TEXT NOT NULL,
            gpus INTEGER NOT NULL,
            device_type TEXT NOT NULL,
            versions TEXT NOT NULL,
            result TEXT NOT NULL,
            created_at REAL NOT NULL)""",
        """CREATE TABLE plans (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            name TEXT NOT NULL,
            doc TEXT NOT NULL,
            created_at REAL NOT NULL)""",
        """CREATE TABLE jobs (
            id TEXT PRIMARY KEY,
            task TEXT NOT NULL,
            state TEXT NOT NULL,
            info TEXT NOT NULL DEFAULT '{}',
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL)""",
        """CREATE TABLE leases (
            device INTEGER PRIMARY KEY,
            holder TEXT NOT NULL,
            pid INTEGER,
            acquired_at REAL NOT NULL)""",
        """CREATE TABLE events (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            ts REAL NOT NULL,
            kind TEXT NOT NULL,
            data TEXT NOT NULL)""",
    ],
    # 2: leases are per (node, device): a plan over several nodes (SLURM) has GPU 0 on each node.
    2: [
        """CREATE TABLE leases_v2 (
            node TEXT NOT NULL DEFAULT 'node0',
            device INTEGER NOT NULL,
            holder TEXT NOT NULL,
            pid INTEGER,
            acquired_at REAL NOT NULL,
            PRIMARY KEY (node, device))""",
        "INSERT INTO leases_v2 (node, device, holder, pid, acquired_at) SELECT 'node0', device, holder, pid, acquired_at FROM leases",
        "DROP TABLE leases",
        "ALTER TABLE leases_v2 RENAME TO leases",
    ],
    # 3: the dispatcher's heartbeat (stores of version 2 may have made it on first use) and a home for the profiled
    # instances (the panel reads the latest instead of replaying profile events).
    3: [
        """CREATE TABLE IF NOT EXISTS dispatcher_heartbeat (
            run_id TEXT PRIMARY KEY,
            at REAL NOT NULL,
            poll_s REAL NOT NULL,
            paused INTEGER NOT NULL DEFAULT 0,
            owner TEXT)""",
        """CREATE TABLE instances (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            profile_run TEXT,
            doc TEXT NOT NULL,
            created_at REAL NOT NULL)""",
    ],
    # 4: each job's compact history: train loss every so often, every validation (saturn.results / history).
    4: [
        """CREATE TABLE metrics (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            job TEXT NOT NULL,
            run_id TEXT,
            task TEXT NOT NULL,
            step INTEGER NOT NULL,
            epoch INTEGER,
            kind TEXT NOT NULL,
            metrics TEXT NOT NULL,
            at REAL NOT NULL)""",
        "CREATE INDEX metrics_by_job ON metrics (job, step)",
        "CREATE INDEX metrics_by_run ON metrics (run_id, id)",
    ],
    # 5: settings made from Python for the runs the page or the CLI start (early stopping).
    5: [
        """CREATE TABLE config (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL,
            updated_at REAL NOT NULL)""",
    ],
}


@lru_cache(maxsize=1)
def event_kinds() -> frozenset:
    """The event kinds the wire schema names (``definitions.event_kind``): the only ones the store records."""
    return frozenset(wire_schema()["definitions"]["event_kind"]["enum"])


class StoreError(RuntimeError):
    pass


class Store:
    """A handle on the store file; one connection per process, guarded by a lock for threads."""

    def __init__(self, path: Optional[os.PathLike | str] = None, busy_timeout_s: float = 30.0):
        self.path = Path(path) if path is not None else store_path()
        self.busy_timeout_s = busy_timeout_s
        self._lock = threading.RLock()
        self._conn: Optional[sqlite3.Connection] = None
        self._pid = -1

    # -- connection and transactions -------------------------------------------------------------------------
    def _connection(self) -> sqlite3.Connection:
        if self._conn is None or self._pid != os.getpid():
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as err:
                raise StoreError(f"cannot create the Saturn store folder {self.path.parent}: {err}. "
                                 "Set SATURN_ROOT (Jupyter root) or SATURN_DB to a writable place.") from err
            conn = sqlite3.connect(str(self.path), timeout=self.busy_timeout_s, isolation_level=None,
                                   check_same_thread=False)
            conn.row_factory = sqlite3.Row
            conn.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout_s * 1000)}")
            self._retry(lambda: conn.execute("PRAGMA journal_mode = WAL"))
            conn.execute("PRAGMA synchronous = NORMAL")
            self._conn, self._pid = conn, os.getpid()
            self._migrate(conn)
        return self._conn

    def _retry(self, fn, attempts: int = 50):
        delay = 0.01
        for attempt in range(attempts):
            try:
                return fn()
            except sqlite3.OperationalError as err:
                if "locked" not in str(err) and "busy" not in str(err) or attempt == attempts - 1:
                    raise
                time.sleep(delay)
                delay = min(delay * 2, 0.5)

    def _write(self, fn):
        """Run ``fn(conn)`` inside BEGIN IMMEDIATE ... COMMIT, retried while the database is locked."""
        with self._lock:
            conn = self._connection()

            def attempt():
                conn.execute("BEGIN IMMEDIATE")
                try:
                    result = fn(conn)
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
                conn.execute("COMMIT")
                return result

            return self._retry(attempt)

    def _read(self, sql: str, params: Iterable[Any] = ()) -> list[sqlite3.Row]:
        with self._lock:
            conn = self._connection()
            return self._retry(lambda: conn.execute(sql, tuple(params)).fetchall())

    def _migrate(self, conn: sqlite3.Connection) -> None:
        def apply():
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
                row = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()
                current = row[0] or 0
                if current > SCHEMA_VERSION:
                    raise StoreError(f"the store {self.path} has schema version {current}, newer than this "
                                     f"saturn ({SCHEMA_VERSION}); upgrade the saturn package")
                for version in range(current + 1, SCHEMA_VERSION + 1):
                    for sql in MIGRATIONS[version]:
                        conn.execute(sql)
                    conn.execute("INSERT INTO schema_version (version) VALUES (?)", (version,))
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

        self._retry(apply)

    def schema_version(self) -> int:
        return self._read("SELECT MAX(version) AS v FROM schema_version")[0]["v"]

    def close(self) -> None:
        with self._lock:
            if self._conn is not None and self._pid == os.getpid():
                self._conn.close()
            self._conn = None

    # -- events ----------------------------------------------------------------------------------------------
    @staticmethod
    def _emit(conn: sqlite3.Connection, kind: str, data: dict) -> int:
        if kind not in event_kinds():
            raise ValueError(f"unknown event kind {kind!r}: add it to definitions.event_kind in the wire schema")
        cur = conn.execute("INSERT INTO events (ts, kind, data) VALUES (?, ?, ?)",
                           (time.time(), kind, json.dumps(data)))
        return cur.lastrowid

    def emit(self, kind: str, data: Optional[dict] = None) -> int:
        return self._write(lambda conn: self._emit(conn, kind, data or {}))

    def events_since(self, since: int = 0, limit: int = 500) -> list[dict]:
        rows = self._read("SELECT id, ts, kind, data FROM events WHERE id > ? ORDER BY id LIMIT ?", (since, limit))
        return [{"id": r["id"], "ts": r["ts"], "kind": r["kind"], "data": json.loads(r["data"])} for r in rows]

    def last_event_id(self) -> int:
        return self._read("SELECT COALESCE(MAX(id), 0) AS m FROM events")[0]["m"]

    # -- tasks -----------------------------------------------------------------------------------------------
    def put_task(self, name: str, spec: dict, payload: bytes, signature: str) -> None:
        def write(conn):
            now = time.time()
            existed = conn.execute("SELECT 1 FROM tasks WHERE name = ?", (name,)).fetchone() is not None
            conn.execute(
                """INSERT INTO tasks (name, spec, payload, signature, created_at, updated_at)
                   VALUES (?, ?, ?, ?, ?, ?)
                   ON CONFLICT(name) DO UPDATE SET spec = excluded.spec, payload = excluded.payload,
                   signature = excluded.signature, updated_at = excluded.updated_at""",
                (name, json.dumps(spec), payload, signature, now, now))
            self._emit(conn, "task.updated" if existed else "task.registered", {"name": name})
        self._write(write)

    def get_task(self, name: str) -> Optional[dict]:
        rows = self._read("SELECT * FROM tasks WHERE name = ?", (name,))
        return self._task_row(rows[0]) if rows else None

    def list_tasks(self) -> list[dict]:
        return [self._task_row(r) for r in self._read("SELECT * FROM tasks ORDER BY created_at, name")]

    @staticmethod
    def _task_row(row: sqlite3.Row) -> dict:
        return {"name": row["name"], "spec": json.loads(row["spec"]), "payload": row["payload"],
                "signature": row["signature"], "created_at": row["created_at"], "updated_at": row["updated_at"]}

    def delete_task(self, name: str) -> bool:
        def write(conn):
            gone = conn.execute("DELETE FROM tasks WHERE name = ?", (name,)).rowcount > 0
            if gone:
                self._emit(conn, "task.unregistered", {"name": name})
            return gone
        return self._write(write)

    # -- techniques (user-registered; built-ins live in code) ------------------------------------------------
    def put_technique(self, name: str, payload: bytes, description: str = "") -> None:
        def write(conn):
            conn.execute("""INSERT INTO techniques (name, payload, description, created_at) VALUES (?, ?, ?, ?)
                            ON CONFLICT(name) DO UPDATE SET payload = excluded.payload,
                            description = excluded.description""", (name, payload, description, time.time()))
            self._emit(conn, "technique.registered", {"name": name})
        self._write(write)

    def list_techniques(self) -> list[dict]:
        return [dict(r) for r in self._read("SELECT * FROM techniques ORDER BY created_at, name")]

    def delete_technique(self, name: str) -> bool:
        def write(conn):
            gone = conn.execute("DELETE FROM techniques WHERE name = ?", (name,)).rowcount > 0
            if gone:
                self._emit(conn, "technique.unregistered", {"name": name})
            return gone
        return self._write(write)

    # -- profile cache ---------------------------------------------------------------------------------------
    def get_profile(self, key: str) -> Optional[dict]:
        rows = self._read("SELECT result FROM profiles WHERE key = ?", (key,))
        return json.loads(rows[0]["result"]) if rows else None

    def put_profile(self, key: str, *, signature: str, batch_size: int, technique: str, gpus: int,
                    device_type: str, versions: str, result: dict) -> None:
        self._write(lambda conn: conn.execute(
            """INSERT OR REPLACE INTO profiles
               (key, signature, batch_size, technique, gpus, device_type, versions, result, created_at)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            (key, signature, batch_size, technique, gpus, device_type, versions, json.dumps(result), time.time())))

    def clear_profiles(self) -> int:
        return self._write(lambda conn: conn.execute("DELETE FROM profiles").rowcount)

    def count_profiles(self) -> int:
        return self._read("SELECT COUNT(*) AS n FROM profiles")[0]["n"]

    # -- plans -----------------------------------------------------------------------------------------------
    def save_plan(self, name: str, doc: dict) -> int:
        def write(conn):
            plan_id = conn.execute("INSERT INTO plans (name, doc, created_at) VALUES (?, ?, ?)",
                                   (name, json.dumps(doc), time.time())).lastrowid
            self._emit(conn, "plan.saved", {"id": plan_id, "name": name})
            return plan_id
        return self._write(write)

    def list_plans(self, with_docs: bool = False) -> list[dict]:
        rows = self._read("SELECT * FROM plans ORDER BY id")
        return [{"id": r["id"], "name": r["name"], "created_at": r["created_at"],
                 **({"doc": json.loads(r["doc"])} if with_docs else {})} for r in rows]

    def get_plan(self, plan_id: int) -> Optional[dict]:
        rows = self._read("SELECT * FROM plans WHERE id = ?", (plan_id,))
        if not rows:
            return None
        r = rows[0]
        return {"id": r["id"], "name": r["name"], "created_at": r["created_at"], "doc": json.loads(r["doc"])}

    # -- profiled instances ------------------------------------------------------------------------------------
    def save_instance(self, doc: dict, profile_run: Optional[str] = None) -> int:
        return self._write(lambda conn: conn.execute(
            "INSERT INTO instances (profile_run, doc, created_at) VALUES (?, ?, ?)",
            (profile_run, json.dumps(doc), time.time())).lastrowid)

    def latest_instance(self) -> Optional[dict]:
        rows = self._read("SELECT doc FROM instances ORDER BY id DESC LIMIT 1")
        return json.loads(rows[0]["doc"]) if rows else None

    # -- metrics: each job's history ---------------------------------------------------------------------------
    def add_metrics(self, job: str, task: str, step: int, kind: str, metrics: dict, *, run_id: Optional[str] = None,
                    epoch: Optional[int] = None) -> int:
        """One point of a job's history (``kind``: ``train`` or ``val``), and its ``job.metrics`` event."""
        if kind not in ("train", "val"):
            raise ValueError(f"metrics kind must be train or val, got {kind!r}")

        def write(conn):
            now = time.time()
            row = conn.execute("INSERT INTO metrics (job, run_id, task, step, epoch, kind, metrics, at) "
                               "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                               (job, run_id, task, int(step), epoch, kind, json.dumps(metrics), now)).lastrowid
            self._emit(conn, "job.metrics", {"id": job, "task": task, "run_id": run_id, "step": int(step),
                                             "epoch": epoch, "kind": kind, "metrics": metrics, "point": row})
            return row
        return self._write(write)

    def metrics(self, *, job: Optional[str] = None, run_id: Optional[str] = None, since: int = 0) -> list[dict]:
        """History points, oldest first (by job, or by run), with an id greater than ``since``."""
        where, params = ["id > ?"], [int(since)]
        if job is not None:
            where.append("job = ?")
            params.append(job)
        if run_id is not None:
            where.append("run_id = ?")
            params.append(run_id)
        rows = self._read(f"SELECT * FROM metrics WHERE {' AND '.join(where)} ORDER BY id", params)
        return [{"point": r["id"], "job": r["job"], "run_id": r["run_id"], "task": r["task"], "step": r["step"],
                 "epoch": r["epoch"], "kind": r["kind"], "metrics": json.loads(r["metrics"]), "at": r["at"]}
                for r in rows]

    def drop_metrics_after(self, job: str, step: int) -> int:
        """A job resumed from its checkpoint at ``step`` computes the later points again: drop the old ones."""
        return self._write(lambda conn: conn.execute("DELETE FROM metrics WHERE job = ? AND step > ?",
                                                     (job, int(step))).rowcount)

    # -- settings made from Python ---------------------------------------------------------------------------
    def set_config(self, key: str, value: Optional[dict]) -> None:
        """Keep ``value`` under ``key`` (None removes it)."""
        def write(conn):
            if value is None:
                conn.execute("DELETE FROM config WHERE key = ?", (key,))
            else:
                conn.execute("INSERT OR REPLACE INTO config (key, value, updated_at) VALUES (?, ?, ?)",
                             (key, json.dumps(value), time.time()))
        self._write(write)

    def config(self, key: str) -> Optional[dict]:
        rows = self._read("SELECT value FROM config WHERE key = ?", (key,))
        return json.loads(rows[0]["value"]) if rows else None

    # -- the dispatcher's heartbeat ----------------------------------------------------------------------------
    def put_heartbeat(self, run_id: str, poll_s: float, *, paused: bool = False, owner: str = "") -> float:
        """The dispatcher of ``run_id`` is alive (every tick); returns the store's time."""
        now = time.time()
        self._write(lambda conn: conn.execute(
            "INSERT OR REPLACE INTO dispatcher_heartbeat (run_id, at, poll_s, paused, owner) VALUES (?, ?, ?, ?, ?)",
            (run_id, now, float(poll_s), int(bool(paused)), owner)))
        return now

    def heartbeat(self, run_id: str) -> Optional[dict]:
        rows = self._read("SELECT * FROM dispatcher_heartbeat WHERE run_id = ?", (run_id,))
        return dict(rows[0]) if rows else None


_default: Optional[Store] = None
_default_lock = threading.Lock()


def default_store() -> Store:
    """The store for the current environment; a new handle when SATURN_DB / SATURN_ROOT point elsewhere."""
    global _default
    with _default_lock:
        path = store_path()
        if _default is None or _default.path != path:
            _default = Store(path)
        return _default
