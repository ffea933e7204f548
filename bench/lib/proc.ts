/** Per-process CPU time and memory from /proc (Linux). */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';

let clockTicks: number | undefined;

/** Clock ticks per second (USER_HZ), for /proc/<pid>/stat times. */
function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

export interface ProcStat {
  readonly pid: number;
  readonly comm: string;
  readonly state: string;
  readonly ppid: number;
  /** utime + stime, seconds. */
  readonly cpuS: number;
  /** cutime + cstime (children that were waited for), seconds. */
  readonly childCpuS: number;
}

export function procStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return undefined;
  }
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  const f = text.slice(close + 2).split(' ');
  // Fields after "(comm)": state(3) ppid(4) ... utime(14) stime(15) cutime(16) cstime(17): index = field - 3.
  const hz = ticksPerSecond();
  return {
    pid,
    comm: text.slice(open + 1, close),
    state: f[0] ?? '?',
    ppid: Number(f[1]),
    cpuS: (Number(f[11]) + Number(f[12])) / hz,
    childCpuS: (Number(f[13]) + Number(f[14])) / hz,
  };
}

/** VmHWM (peak RSS) and VmRSS in KiB, or undefined if the process is gone. */
export function memoryKiB(pid: number): { hwm: number; rss: number } | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/status`, 'latin1');
  } catch {
    return undefined;
  }
  const field = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN);
  const hwm = field('VmHWM');
  const rss = field('VmRSS');
  return Number.isFinite(hwm) ? { hwm, rss } : undefined;
}

/** Resets the peak RSS (VmHWM) of a process to its current RSS. False if not allowed. */
export function resetPeakRss(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/** Live (non-zombie) direct children of a process. */
export function childrenOf(ppid: number): ProcStat[] {
  const out: ProcStat[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const st = procStat(Number(name));
    if (st !== undefined && st.ppid === ppid && st.state !== 'Z') out.push(st);
  }
  return out;
}

/**
 * CPU seconds used so far by a process tree of depth one (a Dovecot master and its services):
 * the master's own time, its reaped children's time, and the live children's time.
 */
export function treeCpuS(pid: number): number {
  const master = procStat(pid);
  if (master === undefined) return NaN;
  return master.cpuS + master.childCpuS + childrenOf(pid).reduce((s, c) => s + c.cpuS, 0);
}

/**
 * Samples the summed VmHWM of a master's children named `comm` (Dovecot's per-session "pop3"
 * processes) every `intervalMs`; `stop()` returns the peak sum in KiB (0 if none was seen).
 */
export function sampleChildrenPeak(masterPid: number, comm: string, intervalMs = 20): { stop: () => number } {
  let peak = 0;
  const perPid = new Map<number, number>();
  const tick = (): void => {
    let sum = 0;
    for (const c of childrenOf(masterPid)) {
      if (c.comm !== comm) continue;
      const m = memoryKiB(c.pid);
      if (m === undefined) continue;
      perPid.set(c.pid, Math.max(perPid.get(c.pid) ?? 0, m.hwm));
      sum += perPid.get(c.pid) as number;
    }
    peak = Math.max(peak, sum);
  };
  tick();
  const timer = setInterval(tick, intervalMs);
  return {
    stop: () => {
      tick();
      clearInterval(timer);
      return peak;
    },
  };
}
