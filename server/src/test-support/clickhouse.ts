/**
 * Test support: a real ClickHouse engine for tests, served over ClickHouse's HTTP interface by the
 * test-only harness tests/clickhouse/chdb_http.py (chdb, ClickHouse as a Python package; see that
 * file). No ClickHouse server can be installed here, so this is how the real client and the real
 * SQL are tested. If the harness cannot start, tests fail with the reason and the install command;
 * they never skip silently.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const HARNESS = resolve(__dirname, '../../../tests/clickhouse/chdb_http.py');
export const INSTALL_HINT = 'pip install -r tests/clickhouse/requirements.txt (CI does this in .ci/run)';

export interface TestClickHouse {
  url: string;
  dir: string;
  stop(): Promise<void>;
}

export interface Harness {
  url: string;
  pid: number;
  /** Stops the harness (SIGTERM) and waits for it; its data directory stays. */
  stop(): Promise<void>;
}

/**
 * Starts the harness on a free port with its database in `dir`/db (created if missing, kept
 * afterwards), and resolves once it answers /ping. The tests give it a fresh directory; the query
 * benchmark keeps one between runs.
 */
export async function launchHarness(dir: string, timeoutMs = 60_000): Promise<Harness> {
  mkdirSync(dir, { recursive: true });
  const python = process.env.CHDB_PYTHON ?? 'python3';
  const child: ChildProcess = spawn(python, [HARNESS, '--port', '0', '--path', join(dir, 'db')], {
    stdio: ['ignore', 'pipe', process.env.CHDB_HTTP_LOG === '1' ? 'inherit' : 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const port = await new Promise<number>((resolvePort, reject) => {
    const timer = setTimeout(() => reject(new Error(`the chdb ClickHouse harness did not start within ${timeoutMs} ms: ${stderr}`)), timeoutMs);
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolvePort(Number(m[1]));
      }
    });
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`cannot run ${python} for the chdb ClickHouse harness: ${e.message}. Install: ${INSTALL_HINT}`));
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the chdb ClickHouse harness exited with ${code}: ${stderr.trim()}\nInstall: ${INSTALL_HINT}`));
    });
  });
  const url = `http://127.0.0.1:${port}`;
  const res = await fetch(`${url}/ping`);
  if (!res.ok) throw new Error(`the chdb ClickHouse harness answered /ping with ${res.status}`);
  return {
    url,
    pid: child.pid ?? 0,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Starts the harness on a free port with a fresh database directory, removed by stop(). */
export async function startClickHouse(timeoutMs = 60_000): Promise<TestClickHouse> {
  const dir = mkdtempSync(join(tmpdir(), 'agent-insights-chdb-'));
  const harness = await launchHarness(dir, timeoutMs);
  return {
    url: harness.url,
    dir,
    async stop() {
      await harness.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
