// Progress lines on stderr (stdout carries the result), one per interval, so a long run
// shows it is alive and how the rate evolves.
export function progress(label: string, line: string): void {
  process.stderr.write(`  [${label}] ${line}\n`);
}

/** Calls `tick(elapsedSeconds)` every second until the returned function is called. */
export function everySecond(tick: (elapsed: number) => void): () => void {
  const start = performance.now();
  const timer = setInterval(() => tick(Math.round((performance.now() - start) / 1000)), 1000);
  return () => clearInterval(timer);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
