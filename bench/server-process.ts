/**
 * The server under test as a child process (node server/dist/main.js) with a fresh DuckDB file,
 * and what /proc says about it: resident memory (VmRSS, VmHWM) and CPU time of all its threads.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';

export interface ServerOptions {
  /** The server's entry point (server/dist/main.js). */
  main: string;
  dir: string;
  ingestKey: string;
  readKey: string;
  tenant: string;
  /** node --cpu-prof into dir/prof. */
  cpuProfile: boolean;
  /** Extra node flags for the server process. */
  nodeArgs: string[];
  /** Extra AGENT_INSIGHTS_* settings passed through from the benchmark's environment. */
  extraEnv: Record<string, string>;
}

export interface ServerProcess {
  url: string;
  pid: number;
  child: ChildProcess;
  logPath: string;
  profileDir: string | null;
  stop(): Promise<number | null>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export async function startServerProcess(o: ServerOptions): Promise<ServerProcess> {
  mkdirSync(o.dir, { recursive: true });
  const port = await freePort();
  const logPath = join(o.dir, 'server.log');
  const profileDir = o.cpuProfile ? join(o.dir, 'prof') : null;
  const args = [...o.nodeArgs, ...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [])];
  args.push(resolve(o.main));
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    ...o.extraEnv,
    AGENT_INSIGHTS_HOST: '127.0.0.1',
    AGENT_INSIGHTS_PORT: String(port),
    AGENT_INSIGHTS_DATA: join(o.dir, 'bench.duckdb'),
    AGENT_INSIGHTS_TENANT: o.tenant,
    AGENT_INSIGHTS_INGEST_KEY: o.ingestKey,
    AGENT_INSIGHTS_READ_KEY: o.readKey,
    AGENT_INSIGHTS_LOG_LEVEL: o.extraEnv.AGENT_INSIGHTS_LOG_LEVEL ?? 'warn',
  };
  const child = spawn(process.execPath, args, { cwd: o.dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  // The server must not outlive the benchmark (Ctrl-C, a crash).
  const killOnExit = (): void => {
    child.kill('SIGKILL');
  };
  process.on('exit', killOnExit);
  const log = createWriteStream(logPath);
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  // 'close', not 'exit': output still buffered in the pipes reaches the log first.
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const url = `http://127.0.0.1:${port}`;

  let alive = true;
  void exited.then(() => (alive = false));
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (!alive) throw new Error(`the server exited while starting; see ${logPath}`);
    try {
      const res = await fetch(`${url}/readyz`);
      if (res.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the server did not become ready within 30 s; see ${logPath}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    pid: child.pid as number,
    child,
    logPath,
    profileDir,
    async stop() {
      if (alive) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
      const code = await exited;
      clearTimeout(timer);
      process.off('exit', killOnExit);
      log.end();
      return code;
    },
  };
}

export interface MemSample {
  rssKiB: number;
  hwmKiB: number;
}

export function readMemory(pid: number): MemSample | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+)\\s+kB`, 'm').exec(status)?.[1] ?? 0);
    return { rssKiB: kib('VmRSS'), hwmKiB: kib('VmHWM') };
  } catch {
    return null;
  }
}

const CLOCK_TICKS = 100; // USER_HZ, 100 on Linux for every common architecture

/** CPU seconds (user + system) used so far by every thread of the process. */
export function readCpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the ")" that closes the command name: state is field 3, utime 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return NaN;
  }
}

/** Busy and total jiffies of the whole machine (/proc/stat), for its overall utilisation. */
export function readMachineCpu(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0];
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const idle = v[3] + (v[4] ?? 0);
  const total = v.reduce((a, b) => a + b, 0);
  return { busy: total - idle, total };
}

/** Samples resident memory every `ms` and keeps the peak. */
export class MemorySampler {
  peakRssKiB = 0;
  hwmKiB = 0;
  samples = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly pid: number) {}

  start(ms = 100): void {
    this.sample();
    this.timer = setInterval(() => this.sample(), ms);
  }

  sample(): void {
    const m = readMemory(this.pid);
    if (!m) return;
    this.samples++;
    this.peakRssKiB = Math.max(this.peakRssKiB, m.rssKiB);
    this.hwmKiB = Math.max(this.hwmKiB, m.hwmKiB);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.sample();
  }
}
