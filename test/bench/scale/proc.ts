/**
 * What a controller process costs, read from /proc like `top` does: resident memory (now and
 * the kernel's high-water mark) and CPU time (user + system), so the figures belong to that
 * process alone, not to the benchmark that drives it.
 */
import { readFileSync } from "node:fs";

/** Clock ticks per second of /proc/<pid>/stat times; 100 on every Linux the benchmark runs on. */
const CLOCK_TICKS = 100;

export interface ProcSample {
  rssMiB: number;
  /** VmHWM: the peak resident set since the process started. */
  peakRssMiB: number;
  cpuSeconds: number;
}

export function sampleProcess(pid: number): ProcSample {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN);
  // Fields after the parenthesised command name; utime and stime are the 14th and 15th overall.
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  return { rssMiB: kib("VmRSS") / 1024, peakRssMiB: kib("VmHWM") / 1024, cpuSeconds: (utime + stime) / CLOCK_TICKS };
}

/** Samples a process periodically and keeps the largest RSS seen (VmHWM covers the gaps). */
export function watchProcess(pid: number, everyMs = 250) {
  let peak = 0;
  const take = () => {
    try {
      const s = sampleProcess(pid);
      peak = Math.max(peak, s.rssMiB, s.peakRssMiB);
      return s;
    } catch {
      return undefined; // the process has exited
    }
  };
  const timer = setInterval(take, everyMs);
  timer.unref();
  return {
    now: () => take(),
    peakMiB: () => peak,
    stop: () => clearInterval(timer),
  };
}
