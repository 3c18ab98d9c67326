// Resident memory and CPU time of the processes under test, straight from /proc (Linux).
import { readFileSync } from 'node:fs';

/** VmRSS of one process, in KiB. */
export function rssKiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'latin1');
  const m = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
  if (!m) throw new Error(`no VmRSS for process ${pid}`);
  return Number(m[1]);
}

export function totalRssKiB(pids: readonly number[]): number {
  return pids.reduce((sum, pid) => sum + rssKiB(pid), 0);
}

/** User + system CPU seconds a process has used so far (clock ticks are 1/100 s on Linux). */
export function cpuSeconds(pid: number | string): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  // The command name may contain spaces and parentheses: fields start after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/**
 * The same for a process's first thread alone: for a Node.js server, its event loop, without
 * the threads beside it (the archive's appends, libuv's pool, the garbage collector's helpers).
 */
export function mainThreadCpuSeconds(pid: number): number {
  return cpuSeconds(`${pid}/task/${pid}`);
}

export function totalCpuSeconds(pids: readonly number[]): number {
  return pids.reduce((sum, pid) => sum + cpuSeconds(pid), 0);
}

/** CPU time of the server processes and of this process over one measured interval. */
export class CpuMeter {
  private serverStart: number;
  private loopStart: number;
  private selfStart = process.cpuUsage();
  private wallStart = performance.now();

  constructor(private readonly pids: readonly number[]) {
    this.serverStart = pids.length ? totalCpuSeconds(pids) : NaN;
    this.loopStart = pids.length ? this.loops() : NaN;
  }

  private loops(): number {
    return this.pids.reduce((sum, pid) => sum + mainThreadCpuSeconds(pid), 0);
  }

  /** Shares of one core (1 = one core busy all the time). */
  read(): { serverCores: number; serverEventLoopCores: number; generatorCores: number } {
    const wall = (performance.now() - this.wallStart) / 1000;
    const self = process.cpuUsage(this.selfStart);
    const round = (x: number): number => Math.round(x * 100) / 100;
    return {
      serverCores: round(this.pids.length ? (totalCpuSeconds(this.pids) - this.serverStart) / wall : NaN),
      serverEventLoopCores: round(this.pids.length ? (this.loops() - this.loopStart) / wall : NaN),
      generatorCores: round((self.user + self.system) / 1e6 / wall),
    };
  }
}

/** CPU seconds of the whole machine, from the first line of /proc/stat ("cpu  user nice system idle iowait irq softirq steal ..."). */
export function parseMachineCpu(statText: string): { busy: number; steal: number } {
  const line = statText.slice(0, statText.indexOf('\n') === -1 ? undefined : statText.indexOf('\n'));
  const m = /^cpu\s+(.*)$/.exec(line);
  if (!m) throw new Error('/proc/stat does not start with the cpu line');
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = m[1]!.trim().split(/\s+/).map(Number);
  // Guest time is already counted in user and nice.
  return { busy: (user + nice + system + irq + softirq) / 100, steal: steal / 100 };
}

/**
 * Cores the whole machine kept busy over an interval, and those the hypervisor took (steal):
 * what the processes under test used, set beside this, says how much else was running.
 */
export class MachineCpuMeter {
  private readonly start = parseMachineCpu(readFileSync('/proc/stat', 'latin1'));
  private readonly wallStart = performance.now();

  read(): { busyCores: number; stealCores: number } {
    const wall = (performance.now() - this.wallStart) / 1000;
    const now = parseMachineCpu(readFileSync('/proc/stat', 'latin1'));
    const round = (x: number): number => Math.round(x * 100) / 100;
    return { busyCores: round((now.busy - this.start.busy) / wall), stealCores: round((now.steal - this.start.steal) / wall) };
  }
}
